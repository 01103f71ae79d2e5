variable "name" {
  type = string
}

variable "hop_limit" {
  type    = number
  default = 1
}

resource "aws_launch_template" "this" {
  name          = var.name
  image_id      = "ami-0c2b0d3fb02824d92"
  instance_type = "m6i.large"

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = var.hop_limit
  }
}

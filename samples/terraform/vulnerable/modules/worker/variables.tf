variable "name" {
  type = string
}

variable "cluster_arn" {
  type = string
}

variable "image" {
  type = string
}

variable "cpu" {
  type    = number
  default = 256
}

variable "memory" {
  type    = number
  default = 512
}

variable "table_arns" {
  description = "The DynamoDB tables (and indexes) the worker uses."
  type        = list(string)
}

variable "table_actions" {
  description = "The DynamoDB actions the worker needs on them."
  type        = list(string)
}

variable "subnet_ids" {
  type = list(string)
}

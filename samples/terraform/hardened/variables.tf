variable "region" {
  description = "AWS region of the platform."
  type        = string
  default     = "eu-west-1"
}

variable "environment" {
  description = "Environment name, used in every resource name."
  type        = string
}

variable "account_id" {
  description = "The AWS account the platform runs in."
  type        = string
}

variable "vpc_id" {
  type = string
}

variable "private_subnet_ids" {
  type = list(string)
}

variable "node_instance_type" {
  type    = string
  default = "m6i.large"
}

variable "node_imds_hop_limit" {
  description = "Metadata hop limit of the EKS nodes: 1, pods get credentials from EKS Pod Identity."
  type        = number
  default     = 1
}

variable "ci_agent_image" {
  type = string
}

variable "partner_read_access" {
  description = "Let the partner integration's role read orders."
  type        = bool
  default     = true
}

variable "partner_role_arn" {
  description = "The partner integration's IAM role, the only principal of the table's resource policy."
  type        = string
}

variable "ingest_tables" {
  description = "DynamoDB actions the ingest pipeline needs, by table."
  type        = map(list(string))
  default     = {}
}

variable "workers" {
  description = "Queue workers, each an ECS service with its own task role."
  type = map(object({
    image         = string
    cpu           = number
    memory        = number
    table_actions = list(string)
  }))
  default = {}
}

# The orders platform: an EKS cluster for the storefront, an ECS cluster for CI build
# agents and ingest workers, and the DynamoDB table they all share.
#
# The hardened twin of samples/terraform/vulnerable: the same infrastructure, and no
# finding. Every DynamoDB grant names its tables, IMDS needs a token and answers the
# host only, builds run without the Docker socket, and containers run as a non-root
# user on a read-only root filesystem.

terraform {
  required_version = ">= 1.6"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.60"
    }
    kubernetes = {
      source  = "hashicorp/kubernetes"
      version = "~> 2.31"
    }
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = local.tags
  }
}

provider "kubernetes" {
  host                   = aws_eks_cluster.main.endpoint
  cluster_ca_certificate = base64decode(aws_eks_cluster.main.certificate_authority[0].data)
  token                  = data.aws_eks_cluster_auth.main.token
}

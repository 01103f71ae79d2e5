# The orders platform: an EKS cluster for the storefront, an ECS cluster for CI build
# agents and ingest workers, and the DynamoDB table they all share.
#
# Vulnerable on purpose. Between them, these files fire BRK101 BRK102 BRK103 BRK104
# BRK201 BRK202 BRK301 BRK401 BRK501 BRK502 BRK504 BRK601: a CI agent that owns the
# Docker socket on a node whose role holds AmazonDynamoDBFullAccess and answers IMDS
# to every container.

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

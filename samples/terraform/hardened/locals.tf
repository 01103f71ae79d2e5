locals {
  name = "orders-${var.environment}"

  orders_table     = "${local.name}-orders"
  orders_table_arn = "arn:aws:dynamodb:${var.region}:${var.account_id}:table/${local.orders_table}"
  table_arn_prefix = "arn:aws:dynamodb:${var.region}:${var.account_id}:table"

  node_policies = toset([
    "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
    "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
  ])

  tags = {
    Environment = var.environment
    Service     = "orders"
    ManagedBy   = "terraform"
  }
}

data "aws_eks_cluster_auth" "main" {
  name = aws_eks_cluster.main.name
}

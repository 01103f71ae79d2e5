locals {
  name = "orders-${var.environment}"

  orders_table     = "${local.name}-orders"
  orders_table_arn = "arn:aws:dynamodb:${var.region}:${var.account_id}:table/${local.orders_table}"

  node_policies = toset([
    "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
    "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
    # The storefront pods read and write orders with the node's credentials.
    "arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess",
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

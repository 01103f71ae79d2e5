# A change under review, next to its plan (`terraform show -json tfplan > plan.json`).
# The change raises the node launch template's metadata hop limit from 1 to 2 so that
# an agent in a container can reach IMDS: BRK502, introduced by the plan. The orders
# task definition is not touched, and its container still has a writable root
# filesystem: BRK401, kept. `breakout scan plan.json` reports both at these lines.

module "nodes" {
  source = "./modules/nodes"

  name      = "orders-nodes"
  hop_limit = 2
}

data "aws_iam_policy_document" "orders" {
  statement {
    sid       = "OrdersTable"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"]
    resources = ["arn:aws:dynamodb:eu-west-1:111122223333:table/orders"]
  }
}

resource "aws_iam_role" "orders" {
  name = "orders-task"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "ecs-tasks.amazonaws.com" }
    }]
  })
}

resource "aws_iam_role_policy" "orders" {
  name   = "orders-dynamodb"
  role   = aws_iam_role.orders.id
  policy = data.aws_iam_policy_document.orders.json
}

resource "aws_ecs_task_definition" "orders" {
  family                   = "orders"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = 256
  memory                   = 512
  task_role_arn            = aws_iam_role.orders.arn

  container_definitions = jsonencode([{
    name      = "orders"
    image     = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/shop/orders:2.4.1"
    essential = true
    user      = "10001:10001"
  }])
}

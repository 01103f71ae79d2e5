# The storefront API's policy: the item actions it uses, on the orders table and its
# indexes.
resource "aws_iam_policy" "orders_api" {
  name        = "${local.name}-orders-api"
  description = "Storefront API access to the orders table"

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid    = "OrdersTable"
        Effect = "Allow"
        Action = [
          "dynamodb:GetItem",
          "dynamodb:PutItem",
          "dynamodb:UpdateItem",
          "dynamodb:Query",
        ]
        Resource = [local.orders_table_arn, "${local.orders_table_arn}/index/*"]
      },
      {
        Sid      = "Events"
        Effect   = "Allow"
        Action   = ["events:PutEvents"]
        Resource = "arn:aws:events:${var.region}:${var.account_id}:event-bus/${local.name}"
      },
    ]
  })
}

# The ingest pipeline: one statement per table, built from var.ingest_tables, each on
# its own table.
data "aws_iam_policy_document" "ingest" {
  statement {
    sid       = "ReadQueue"
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
    resources = [aws_sqs_queue.ingest.arn]
  }

  dynamic "statement" {
    for_each = var.ingest_tables
    content {
      sid       = "Write${replace(statement.key, "-", "")}"
      actions   = statement.value
      resources = ["${local.table_arn_prefix}/${local.name}-${statement.key}"]
    }
  }
}

resource "aws_sqs_queue" "ingest" {
  name = "${local.name}-ingest"
}

resource "aws_iam_policy" "ingest" {
  name   = "${local.name}-ingest"
  policy = data.aws_iam_policy_document.ingest.json
}

data "aws_iam_policy_document" "ec2_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "nodes" {
  name               = "${local.name}-eks-nodes"
  assume_role_policy = data.aws_iam_policy_document.ec2_assume.json
}

# The EKS worker policies only; pods get their own roles through EKS Pod Identity.
resource "aws_iam_role_policy_attachment" "nodes" {
  for_each = local.node_policies

  role       = aws_iam_role.nodes.name
  policy_arn = each.value
}

resource "aws_iam_instance_profile" "bastion" {
  name = "${local.name}-bastion"
  role = aws_iam_role.nodes.name
}

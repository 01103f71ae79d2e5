resource "aws_dynamodb_table" "orders" {
  name         = local.orders_table
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "order_id"
  range_key    = "created_at"

  attribute {
    name = "order_id"
    type = "S"
  }

  attribute {
    name = "created_at"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }
}

# The partner integration reads orders across accounts: its role, and nobody else.
resource "aws_dynamodb_resource_policy" "orders" {
  count = var.partner_read_access ? 1 : 0

  resource_arn = aws_dynamodb_table.orders.arn
  policy = templatefile("${path.module}/policies/orders-table-policy.json.tpl", {
    table_arn   = local.orders_table_arn
    partner_arn = var.partner_role_arn
  })
}

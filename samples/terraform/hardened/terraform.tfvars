environment        = "prod"
account_id         = "111122223333"
vpc_id             = "vpc-0a1b2c3d4e5f60718"
private_subnet_ids = ["subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c4b5a69788"]
ci_agent_image     = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/ci/build-agent:2024.11"
partner_role_arn   = "arn:aws:iam::444455556666:role/orders-partner-reader"

ingest_tables = {
  orders   = ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]
  payments = ["dynamodb:PutItem"]
}

workers = {
  invoices = {
    image         = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/workers/invoices:1.8.2"
    cpu           = 256
    memory        = 512
    table_actions = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"]
  }
  refunds = {
    image         = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/workers/refunds:0.9.0"
    cpu           = 256
    memory        = 512
    table_actions = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem"]
  }
}

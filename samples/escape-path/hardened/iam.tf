# The payments API's own role, scoped to its table and the actions it calls: a
# workload's own role with writes on its own table is least privilege, not a path.

resource "aws_iam_role" "payments_api" {
  name = "payments-api"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRoleWithWebIdentity"
      Principal = { Federated = "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE" }
    }]
  })
}

resource "aws_iam_role_policy" "payments_api" {
  name = "tables"
  role = aws_iam_role.payments_api.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "PaymentsTable"
      Effect   = "Allow"
      Action   = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem"]
      Resource = "arn:aws:dynamodb:eu-west-1:111122223333:table/payments"
    }]
  })
}

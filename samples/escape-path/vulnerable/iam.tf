# The payments API's own role, given to its pods through IRSA (see
# manifests/payments-api.yaml). BRK101 and BRK102: `dynamodb:*` on every table.
# BRK901: a high escape path of the pod's own credentials, even though the pod is
# hardened and cut off from the metadata service.

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
      Sid      = "Tables"
      Effect   = "Allow"
      Action   = "dynamodb:*"
      Resource = "*"
    }]
  })
}

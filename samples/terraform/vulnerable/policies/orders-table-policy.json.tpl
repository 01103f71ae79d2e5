{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "PartnerReadOrders",
      "Effect": "Allow",
      "Principal": "*",
      "Action": [
        "dynamodb:GetItem",
        "dynamodb:Query"
      ],
      "Resource": [
        "${table_arn}",
        "${table_arn}/index/*"
      ]
    }
  ]
}

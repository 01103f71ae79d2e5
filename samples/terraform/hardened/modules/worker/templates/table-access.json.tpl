{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "Tables",
      "Effect": "Allow",
      "Action": ${jsonencode(actions)},
      "Resource": ${jsonencode(table_arns)}
    }
  ]
}

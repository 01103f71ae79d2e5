output "task_role_arn" {
  value = aws_iam_role.task.arn
}

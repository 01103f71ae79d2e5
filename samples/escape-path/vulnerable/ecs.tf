# A nightly reports job on Fargate: no node to escape to, but its task role writes and
# deletes on every table. BRK102; BRK901: a high escape path of the task's own role.

resource "aws_ecs_cluster" "jobs" {
  name = "escape-demo-jobs"
}

resource "aws_iam_role" "reports_task" {
  name = "reports-task"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "ecs-tasks.amazonaws.com" } }]
  })
}

resource "aws_iam_role_policy" "reports_task" {
  name = "reports"
  role = aws_iam_role.reports_task.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "Rollups"
      Effect   = "Allow"
      Action   = ["dynamodb:Query", "dynamodb:BatchWriteItem", "dynamodb:DeleteItem"]
      Resource = "arn:aws:dynamodb:eu-west-1:111122223333:table/*"
    }]
  })
}

resource "aws_ecs_task_definition" "reports" {
  family                   = "reports"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = 512
  memory                   = 1024
  task_role_arn            = aws_iam_role.reports_task.arn

  container_definitions = jsonencode([{
    name                   = "reports"
    image                  = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/reports:3.2.0"
    essential              = true
    user                   = "10001:10001"
    readonlyRootFilesystem = true
  }])
}

resource "aws_ecs_service" "reports" {
  name            = "reports"
  cluster         = aws_ecs_cluster.jobs.id
  task_definition = aws_ecs_task_definition.reports.arn
  launch_type     = "FARGATE"
  desired_count   = 1

  network_configuration {
    subnets = ["subnet-0a1b2c3d4e5f60001"]
  }
}

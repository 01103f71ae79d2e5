data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "task" {
  name               = "${var.name}-task"
  assume_role_policy = data.aws_iam_policy_document.assume.json
}

resource "aws_iam_role_policy" "tables" {
  name = "tables"
  role = aws_iam_role.task.id
  policy = templatefile("${path.module}/templates/table-access.json.tpl", {
    actions    = var.table_actions
    table_arns = var.table_arns
  })
}

resource "aws_ecs_task_definition" "this" {
  family                   = var.name
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.cpu
  memory                   = var.memory
  task_role_arn            = aws_iam_role.task.arn

  container_definitions = jsonencode([
    {
      name      = "worker"
      image     = var.image
      essential = true
      user      = "1000:1000"
      # The spool lives on a task-scoped volume; the root filesystem is read-only.
      readonlyRootFilesystem = true
      mountPoints = [
        { sourceVolume = "spool", containerPath = "/var/spool/worker" },
      ]
    },
  ])

  volume {
    name = "spool"
  }
}

resource "aws_ecs_service" "this" {
  name            = var.name
  cluster         = var.cluster_arn
  task_definition = aws_ecs_task_definition.this.arn
  desired_count   = 2
  launch_type     = "FARGATE"

  network_configuration {
    subnets = var.subnet_ids
  }
}

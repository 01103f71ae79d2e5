resource "aws_ecs_cluster" "ci" {
  name = "${local.name}-ci"
}

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "ci_agent" {
  name               = "${local.name}-ci-agent"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

# BRK101 and BRK102 again, from a policy kept next to the configuration (BRK901).
resource "aws_iam_role_policy" "ci_agent" {
  name   = "build"
  role   = aws_iam_role.ci_agent.id
  policy = file("${path.module}/policies/ci-agent.json")
}

# The CI build agent runs `docker build` against the host's daemon.
# BRK201 docker socket, BRK202 /var/lib/docker, BRK301 user root, BRK401 writable root
# filesystem, BRK504 host network, BRK601 privileged.
resource "aws_ecs_task_definition" "ci_agent" {
  family                   = "${local.name}-ci-agent"
  requires_compatibilities = ["EC2"]
  network_mode             = "host"
  cpu                      = 1024
  memory                   = 2048
  task_role_arn            = aws_iam_role.ci_agent.arn

  container_definitions = jsonencode([
    {
      name                   = "build-agent"
      image                  = var.ci_agent_image
      essential              = true
      user                   = "root"
      privileged             = true
      readonlyRootFilesystem = false
      environment = [
        { name = "AGENT_POOL", value = "linux-docker" },
        { name = "AWS_REGION", value = var.region },
      ]
      mountPoints = [
        { sourceVolume = "docker-socket", containerPath = "/var/run/docker.sock" },
        { sourceVolume = "docker-cache", containerPath = "/var/lib/docker" },
      ]
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = "/ecs/${local.name}-ci-agent"
          awslogs-region        = var.region
          awslogs-stream-prefix = "agent"
        }
      }
    },
  ])

  volume {
    name      = "docker-socket"
    host_path = "/var/run/docker.sock"
  }

  volume {
    name      = "docker-cache"
    host_path = "/var/lib/docker"
  }
}

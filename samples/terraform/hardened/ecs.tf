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

# Least privilege, from a policy kept next to the configuration.
resource "aws_iam_role_policy" "ci_agent" {
  name   = "build"
  role   = aws_iam_role.ci_agent.id
  policy = file("${path.module}/policies/ci-agent.json")
}

# The CI build agent builds images without a Docker daemon (rootless BuildKit) in its
# own network namespace, as a non-root user, on a read-only root filesystem; the
# workspace is a task-scoped volume.
resource "aws_ecs_task_definition" "ci_agent" {
  family                   = "${local.name}-ci-agent"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = 1024
  memory                   = 2048
  task_role_arn            = aws_iam_role.ci_agent.arn

  container_definitions = jsonencode([
    {
      name                   = "build-agent"
      image                  = var.ci_agent_image
      essential              = true
      user                   = "1000:1000"
      privileged             = false
      readonlyRootFilesystem = true
      environment = [
        { name = "AGENT_POOL", value = "linux-buildkit" },
        { name = "AWS_REGION", value = var.region },
        { name = "BUILDKITD_FLAGS", value = "--oci-worker-no-process-sandbox" },
      ]
      mountPoints = [
        { sourceVolume = "workspace", containerPath = "/workspace" },
      ]
      linuxParameters = {
        capabilities = {
          drop = ["ALL"]
        }
      }
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
    name = "workspace"
  }
}

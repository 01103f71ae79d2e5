# One ECS service per queue worker, each with a task role scoped (or not) by
# var.workers[*].table_actions.
module "worker" {
  source   = "./modules/worker"
  for_each = var.workers

  name          = "${local.name}-${each.key}"
  cluster_arn   = aws_ecs_cluster.ci.arn
  image         = each.value.image
  cpu           = each.value.cpu
  memory        = each.value.memory
  table_arns    = [local.orders_table_arn, "${local.orders_table_arn}/index/*"]
  table_actions = each.value.table_actions
  subnet_ids    = var.private_subnet_ids
}

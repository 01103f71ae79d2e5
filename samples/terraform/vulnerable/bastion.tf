data "aws_ami" "al2023" {
  most_recent = true
  owners      = ["amazon"]

  filter {
    name   = "name"
    values = ["al2023-ami-*-x86_64"]
  }
}

# BRK501: no metadata_options block, so IMDSv1 answers plain GETs with the role's
# credentials.
resource "aws_instance" "bastion" {
  ami                    = data.aws_ami.al2023.id
  instance_type          = "t3.micro"
  subnet_id              = var.private_subnet_ids[0]
  iam_instance_profile   = aws_iam_instance_profile.bastion.name
  vpc_security_group_ids = [aws_security_group.bastion.id]

  tags = merge(local.tags, { Name = "${local.name}-bastion" })
}

resource "aws_security_group" "bastion" {
  name   = "${local.name}-bastion"
  vpc_id = var.vpc_id
}

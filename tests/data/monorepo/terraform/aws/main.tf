# The cluster and its network. Listed by saasctl, applied by terraform.
terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "~> 5.0" }
  }
}

provider "aws" {
  region = "eu-central-1"
}

# module "eks" { ... }      the cluster
# resource "aws_s3_bucket" "backups" { bucket = "panelbear-backups" }

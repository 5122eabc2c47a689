# Minimal deployment of the s3opstore API: one bucket, one Lambda, one Function URL.
#
#   python scripts/build_lambda_zip.py --arch arm64 --output terraform/examples/basic/build/s3opstore-arm64.zip
#   cd terraform/examples/basic && terraform init && terraform apply

terraform {
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.60"
    }
  }
}

variable "region" {
  type        = string
  description = "AWS region to deploy into."
  default     = "eu-west-1"
}

variable "lambda_zip_path" {
  type        = string
  description = "Deployment zip built by scripts/build_lambda_zip.py --arch arm64."
  default     = "build/s3opstore-arm64.zip"
}

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      project = "s3opstore"
    }
  }
}

module "opstore" {
  source = "../.."

  name_prefix     = "opstore-demo"
  prefix          = "registry"
  architecture    = "arm64"
  lambda_zip_path = var.lambda_zip_path

  log_retention_days                 = 365
  noncurrent_version_expiration_days = 30

  tags = {
    environment = "example"
  }
}

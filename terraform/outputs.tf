output "bucket_name" {
  description = "Name of the registry bucket."
  value       = aws_s3_bucket.this.id
}

output "bucket_arn" {
  description = "ARN of the registry bucket."
  value       = aws_s3_bucket.this.arn
}

output "store_url" {
  description = "Store URL of the registry (s3://<bucket>/<prefix>): the value of S3OPSTORE_URL for library users."
  value       = local.store_url
}

output "function_url" {
  description = "HTTPS endpoint of the API. Requests must be signed with SigV4 (service \"lambda\") by a principal allowed lambda:InvokeFunctionUrl (see invoke_policy_json)."
  value       = aws_lambda_function_url.api.function_url
}

output "function_name" {
  description = "Name of the API Lambda function."
  value       = aws_lambda_function.api.function_name
}

output "function_arn" {
  description = "ARN of the API Lambda function."
  value       = aws_lambda_function.api.arn
}

output "role_arn" {
  description = "ARN of the Lambda execution role."
  value       = aws_iam_role.lambda.arn
}

output "log_group_name" {
  description = "Name of the Lambda's CloudWatch log group."
  value       = aws_cloudwatch_log_group.lambda.name
}

output "read_only_policy_json" {
  description = "IAM policy document (JSON) for principals that only read the registry with the library: s3:GetObject on the prefix and s3:ListBucket on the bucket, without a prefix condition so that missing keys read as 404 (+ kms:Decrypt when a KMS key is used)."
  value       = data.aws_iam_policy_document.read_only.json
}

output "read_write_policy_json" {
  description = "IAM policy document (JSON) for principals that register ops with the library: read_only_policy_json plus s3:PutObject on the prefix (+ kms:GenerateDataKey when a KMS key is used)."
  value       = data.aws_iam_policy_document.read_write.json
}

output "gc_policy_json" {
  description = "IAM policy document (JSON) for operators running garbage collection: read_write_policy_json plus s3:DeleteObject on the prefix. Deletes leave noncurrent versions that the lifecycle removes after noncurrent_version_expiration_days."
  value       = data.aws_iam_policy_document.gc.json
}

output "invoke_policy_json" {
  description = "IAM policy document (JSON) allowing lambda:InvokeFunctionUrl on the API function, for clients of the HTTP API."
  value       = data.aws_iam_policy_document.invoke.json
}

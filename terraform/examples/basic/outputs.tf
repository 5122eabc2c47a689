output "store_url" {
  description = "Set S3OPSTORE_URL to this to use the registry with the library."
  value       = module.opstore.store_url
}

output "function_url" {
  description = "IAM-authenticated HTTPS endpoint of the API."
  value       = module.opstore.function_url
}

output "bucket_name" {
  description = "Name of the registry bucket."
  value       = module.opstore.bucket_name
}

output "function_name" {
  description = "Name of the API Lambda function."
  value       = module.opstore.function_name
}

output "read_write_policy_json" {
  description = "Attach to the roles of workers that register ops with the library."
  value       = module.opstore.read_write_policy_json
}

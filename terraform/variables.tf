variable "name_prefix" {
  type        = string
  description = "Prefix for every resource name (Lambda function, IAM role, log group and, unless bucket_name is set, the bucket). Lowercase letters, digits and hyphens; 2 to 32 characters; starts with a letter."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,30}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 2-32 characters of lowercase letters, digits and hyphens, start with a letter and not end with a hyphen."
  }
}

variable "bucket_name" {
  type        = string
  description = "Exact name of the registry bucket. When null (the default) AWS generates a unique name starting with \"<name_prefix>-\"."
  default     = null

  validation {
    # No dots: dotted names break TLS certificate matching for virtual-hosted-style requests.
    condition     = var.bucket_name == null || can(regex("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be null or 3-63 characters of lowercase letters, digits and hyphens (no dots), starting and ending with a letter or digit."
  }
}

variable "prefix" {
  type        = string
  description = "Key prefix under which the registry stores its manifests and blobs, without a leading or trailing slash (for example \"opstore\" or \"teams/ml/opstore\"). The empty string puts the registry at the bucket root."
  default     = "opstore"

  validation {
    # Either empty, or slash-separated segments of safe characters: no leading, trailing or
    # doubled slash, and no IAM wildcard characters (* ?) that would widen the IAM scoping.
    condition     = var.prefix == "" || can(regex("^[A-Za-z0-9_.=-]+(/[A-Za-z0-9_.=-]+)*$", var.prefix))
    error_message = "prefix must be empty or slash-separated segments of letters, digits, '_', '.', '=' and '-', with no leading, trailing or doubled slash."
  }
}

variable "architecture" {
  type        = string
  description = "Instruction set of the Lambda function: \"arm64\" (Graviton, cheaper) or \"x86_64\". Must match the --arch the zip was built with."
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be \"arm64\" or \"x86_64\"."
  }
}

variable "memory_size" {
  type        = number
  description = "Memory of the Lambda function in MB (128-10240). CPU share grows with it."
  default     = 512

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240 && floor(var.memory_size) == var.memory_size
    error_message = "memory_size must be a whole number of MB between 128 and 10240."
  }
}

variable "timeout" {
  type        = number
  description = "Timeout of the Lambda function in seconds (1-900)."
  default     = 30

  validation {
    condition     = var.timeout >= 1 && var.timeout <= 900 && floor(var.timeout) == var.timeout
    error_message = "timeout must be a whole number of seconds between 1 and 900."
  }
}

variable "reserved_concurrent_executions" {
  type        = number
  description = "Reserved concurrency of the Lambda function: caps how many instances run at once (and so the request rate against S3). -1 (the default) reserves nothing and leaves the function on the account's unreserved pool; 0 disables the function."
  default     = -1

  validation {
    condition     = var.reserved_concurrent_executions >= -1 && floor(var.reserved_concurrent_executions) == var.reserved_concurrent_executions
    error_message = "reserved_concurrent_executions must be -1 (no reservation) or a whole number >= 0."
  }
}

variable "tracing_mode" {
  type        = string
  description = "AWS X-Ray tracing mode of the Lambda function: \"PassThrough\" (default: trace only requests that arrive already sampled) or \"Active\" (sample and trace requests; adds the X-Ray write permissions to the role)."
  default     = "PassThrough"

  validation {
    condition     = contains(["PassThrough", "Active"], var.tracing_mode)
    error_message = "tracing_mode must be \"PassThrough\" or \"Active\"."
  }
}

variable "log_retention_days" {
  type        = number
  description = "Retention of the Lambda's CloudWatch log group in days. Must be a value CloudWatch Logs accepts: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of the values CloudWatch Logs accepts: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "noncurrent_version_expiration_days" {
  type        = number
  description = "Days after which a noncurrent (overwritten or deleted) object version is permanently removed by the bucket lifecycle. This is the window in which an overwritten manifest or a garbage-collected blob can still be recovered."
  default     = 30

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1 && floor(var.noncurrent_version_expiration_days) == var.noncurrent_version_expiration_days
    error_message = "noncurrent_version_expiration_days must be a whole number of days >= 1."
  }
}

variable "kms_key_arn" {
  type        = string
  description = "ARN of a customer-managed KMS key. When set, the bucket uses SSE-KMS with this key (with an S3 Bucket Key), and the log group and the Lambda environment are encrypted with it. The key policy must let CloudWatch Logs (logs.<region>.amazonaws.com) use it. When null (the default) the bucket uses SSE-S3 (AES256)."
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.kms_key_arn))
    error_message = "kms_key_arn must be null or a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<key-id>); aliases are not accepted because IAM policies need the key ARN."
  }
}

variable "access_log_bucket" {
  type        = string
  description = "Name of an existing bucket that receives S3 server access logs of the registry bucket. When null (the default) server access logging is off."
  default     = null

  validation {
    condition     = var.access_log_bucket == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.access_log_bucket))
    error_message = "access_log_bucket must be null or a valid S3 bucket name."
  }
}

variable "access_log_prefix" {
  type        = string
  description = "Key prefix for the server access logs in access_log_bucket. Ignored when access_log_bucket is null."
  default     = "s3opstore/"

  validation {
    condition     = !startswith(var.access_log_prefix, "/")
    error_message = "access_log_prefix must not start with a slash."
  }
}

variable "lambda_zip_path" {
  type        = string
  description = "Path to the deployment zip built by scripts/build_lambda_zip.py (for the same architecture). Read at plan time to compute source_code_hash, so it must exist before terraform plan."

  validation {
    condition     = endswith(var.lambda_zip_path, ".zip")
    error_message = "lambda_zip_path must point to a .zip file."
  }
}

variable "force_destroy" {
  type        = bool
  description = "Allow terraform destroy to delete the bucket even though it still holds objects (and so the whole registry). Keep false outside throwaway environments."
  default     = false
}

variable "tags" {
  type        = map(string)
  description = "Tags applied to every taggable resource of the module."
  default     = {}
}

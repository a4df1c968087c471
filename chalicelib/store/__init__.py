"""Storage adapters: DynamoDB (pynamodb and the low-level client), S3, EventBridge. Only this package talks to AWS."""

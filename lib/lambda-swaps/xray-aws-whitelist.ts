/**
 * What a Lambda bundle gets for the X-Ray SDK's `../resources/aws_whitelist.json` (lib/bundling.ts swaps
 * it in at build time): the request and response fields its v3 patcher records on an AWS call's
 * subsegment (table name, consumed capacity, queue URL, topic ARN...), copied for the only services our
 * functions have clients for: DynamoDB, SQS and SNS. S3, Lambda and SageMaker's entries (≈7.6 kB, S3's
 * most of it) are left out: a call to one of those would still get its subsegment, without those fields.
 * test/unit/build/lambda-swaps.test.ts checks these entries equal the package's and that no function
 * bundles another AWS client. The patcher requires the file and reads its `services`, which this
 * module's namespace gives.
 */
export const services = {
  dynamodb: {
    operations: {
      batchGetItem: {
        request_descriptors: {
          RequestItems: {
            get_keys: true,
            rename_to: "table_names",
          },
        },
        response_parameters: ["ConsumedCapacity"],
      },
      batchWriteItem: {
        request_descriptors: {
          RequestItems: {
            get_keys: true,
            rename_to: "table_names",
          },
        },
        response_parameters: ["ConsumedCapacity", "ItemCollectionMetrics"],
      },
      createTable: {
        request_parameters: ["GlobalSecondaryIndexes", "LocalSecondaryIndexes", "ProvisionedThroughput", "TableName"],
      },
      deleteItem: {
        request_parameters: ["TableName"],
        response_parameters: ["ConsumedCapacity", "ItemCollectionMetrics"],
      },
      deleteTable: {
        request_parameters: ["TableName"],
      },
      describeTable: {
        request_parameters: ["TableName"],
      },
      getItem: {
        request_parameters: ["ConsistentRead", "ProjectionExpression", "TableName"],
        response_parameters: ["ConsumedCapacity"],
      },
      listTables: {
        request_parameters: ["ExclusiveStartTableName", "Limit"],
        response_descriptors: {
          TableNames: {
            list: true,
            get_count: true,
            rename_to: "table_count",
          },
        },
      },
      putItem: {
        request_parameters: ["TableName"],
        response_parameters: ["ConsumedCapacity", "ItemCollectionMetrics"],
      },
      query: {
        request_parameters: ["AttributesToGet", "ConsistentRead", "IndexName", "Limit", "ProjectionExpression", "ScanIndexForward", "Select", "TableName"],
        response_parameters: ["ConsumedCapacity"],
      },
      scan: {
        request_parameters: [
          "AttributesToGet",
          "ConsistentRead",
          "IndexName",
          "Limit",
          "ProjectionExpression",
          "Segment",
          "Select",
          "TableName",
          "TotalSegments",
        ],
        response_parameters: ["ConsumedCapacity", "Count", "ScannedCount"],
      },
      updateItem: {
        request_parameters: ["TableName"],
        response_parameters: ["ConsumedCapacity", "ItemCollectionMetrics"],
      },
      updateTable: {
        request_parameters: ["AttributeDefinitions", "GlobalSecondaryIndexUpdates", "ProvisionedThroughput", "TableName"],
      },
    },
  },
  sqs: {
    operations: {
      addPermission: {
        request_parameters: ["Label", "QueueUrl"],
      },
      changeMessageVisibility: {
        request_parameters: ["QueueUrl", "VisibilityTimeout"],
      },
      changeMessageVisibilityBatch: {
        request_parameters: ["QueueUrl"],
        response_parameters: ["Failed"],
      },
      createQueue: {
        request_parameters: ["Attributes", "QueueName"],
      },
      deleteMessage: {
        request_parameters: ["QueueUrl"],
      },
      deleteMessageBatch: {
        request_parameters: ["QueueUrl"],
        response_parameters: ["Failed"],
      },
      deleteQueue: {
        request_parameters: ["QueueUrl"],
      },
      getQueueAttributes: {
        request_parameters: ["QueueUrl"],
        response_parameters: ["Attributes"],
      },
      getQueueUrl: {
        request_parameters: ["QueueName", "QueueOwnerAWSAccountId"],
        response_parameters: ["QueueUrl"],
      },
      listDeadLetterSourceQueues: {
        request_parameters: ["QueueUrl"],
        response_parameters: ["QueueUrls"],
      },
      listQueues: {
        request_parameters: ["QueueNamePrefix"],
        response_descriptors: {
          QueueUrls: {
            list: true,
            get_count: true,
            rename_to: "queue_count",
          },
        },
      },
      purgeQueue: {
        request_parameters: ["QueueUrl"],
      },
      receiveMessage: {
        request_parameters: ["AttributeNames", "MaxNumberOfMessages", "MessageAttributeNames", "QueueUrl", "VisibilityTimeout", "WaitTimeSeconds"],
        response_descriptors: {
          Messages: {
            list: true,
            get_count: true,
            rename_to: "message_count",
          },
        },
      },
      removePermission: {
        request_parameters: ["QueueUrl"],
      },
      sendMessage: {
        request_parameters: ["DelaySeconds", "QueueUrl"],
        request_descriptors: {
          MessageAttributes: {
            get_keys: true,
            rename_to: "message_attribute_names",
          },
        },
        response_parameters: ["MessageId"],
      },
      sendMessageBatch: {
        request_parameters: ["QueueUrl"],
        request_descriptors: {
          Entries: {
            list: true,
            get_count: true,
            rename_to: "message_count",
          },
        },
        response_descriptors: {
          Failed: {
            list: true,
            get_count: true,
            rename_to: "failed_count",
          },
          Successful: {
            list: true,
            get_count: true,
            rename_to: "successful_count",
          },
        },
      },
      setQueueAttributes: {
        request_parameters: ["QueueUrl"],
        request_descriptors: {
          Attributes: {
            get_keys: true,
            rename_to: "attribute_names",
          },
        },
      },
    },
  },
  sns: {
    operations: {
      publish: {
        request_parameters: ["TopicArn"],
      },
      publishBatch: {
        request_parameters: ["TopicArn"],
      },
    },
  },
};

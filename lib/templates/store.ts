/**
 * TemplateStore: the template items of the commands table (lib/templates/items.ts). Each method is
 * one read or one conditional write.
 */
import { GetCommand, QueryCommand, TransactWriteCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { isCancelledOrConditionFailure } from "../dynamo/conditions.ts";
import { decodeKeyCursor, encodeKeyCursor, type Page } from "../dynamo/cursor.ts";
import { pointerItemSchema, TEMPLATE_INDEX_PK, templatePk, versionItemSchema, versionSk, type PointerItem, type VersionItem } from "./items.ts";

export interface TemplateStoreOptions {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
}

export class TemplateStore {
  readonly tableName: string;
  private readonly client: DynamoDBDocumentClient;

  constructor(options: TemplateStoreOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
  }

  /** The latest pointer, read consistently: a PUT decides its version number from it. */
  async getPointer(name: string): Promise<PointerItem | undefined> {
    const out = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { pk: TEMPLATE_INDEX_PK, sk: name }, ConsistentRead: true }));
    return out.Item ? pointerItemSchema.parse(out.Item) : undefined;
  }

  async getVersion(name: string, version: number): Promise<VersionItem | undefined> {
    const out = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { pk: templatePk(name), sk: versionSk(version) } }));
    return out.Item ? versionItemSchema.parse(out.Item) : undefined;
  }

  /**
   * Writes `version` and moves the pointer to it, if the pointer is still at `previous` (none: the
   * template is new). False when another writer got there first: read the pointer again.
   */
  async putVersion(version: VersionItem, pointer: PointerItem, previous: number | undefined): Promise<boolean> {
    try {
      await this.client.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: this.tableName, Item: version, ConditionExpression: "attribute_not_exists(pk)" } },
            {
              Put: {
                TableName: this.tableName,
                Item: pointer,
                ...(previous === undefined
                  ? { ConditionExpression: "attribute_not_exists(pk)" }
                  : { ConditionExpression: "latest_version = :previous", ExpressionAttributeValues: { ":previous": previous } }),
              },
            },
          ],
        }),
      );
      return true;
    } catch (error) {
      // A failed condition or a transaction that collided with another writer's: both lost the race.
      if (isCancelledOrConditionFailure(error)) return false;
      throw error;
    }
  }

  /** Templates by name, with their latest version. */
  async listPointers(request: { readonly limit: number; readonly cursor: string | undefined }): Promise<Page<PointerItem>> {
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": TEMPLATE_INDEX_PK },
        Limit: request.limit,
        ExclusiveStartKey: decodeKeyCursor(request.cursor, TEMPLATE_INDEX_PK),
      }),
    );
    return { items: (out.Items ?? []).map((item) => pointerItemSchema.parse(item)), cursor: encodeKeyCursor(out.LastEvaluatedKey) };
  }
}

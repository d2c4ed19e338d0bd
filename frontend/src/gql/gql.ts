/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  mutation Login($username: String!, $password: String!) {\n    login(username: $username, password: $password) {\n      token\n      user { id username fullName isAdmin }\n    }\n  }\n": typeof types.LoginDocument,
    "\n  subscription UnviewedCount {\n    unviewedNotificationCount\n  }\n": typeof types.UnviewedCountDocument,
    "\n  subscription NotificationCreated {\n    notificationCreated {\n      id type name message createdAt viewed\n      product { id name myRole }\n    }\n  }\n": typeof types.NotificationCreatedDocument,
    "\n  subscription NotificationDeleted {\n    notificationDeleted\n  }\n": typeof types.NotificationDeletedDocument,
    "\n  query Notifications($filter: NotificationFilter, $first: Int, $after: String) {\n    notifications(filter: $filter, first: $first, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges {\n        cursor\n        node {\n          id type name message createdAt viewed\n          product { id name myRole }\n        }\n      }\n    }\n  }\n": typeof types.NotificationsDocument,
    "\n  query ProductNames {\n    products { id name }\n  }\n": typeof types.ProductNamesDocument,
    "\n  query Notification($id: ID!) {\n    notification(id: $id) {\n      id type name message createdAt viewed function arguments trace repeatCount repeatSince\n      product { id name myRole }\n      user { id username fullName }\n      deliveries {\n        id channel target status attempts nextAttemptAt lastError lastStatusCode\n        history { attemptedAt outcome statusCode response }\n      }\n    }\n  }\n": typeof types.NotificationDocument,
    "\n  mutation MarkViewed($ids: [ID!]!) {\n    markNotificationsViewed(ids: $ids)\n  }\n": typeof types.MarkViewedDocument,
    "\n  mutation DeleteNotifications($ids: [ID!]!) {\n    deleteNotifications(ids: $ids)\n  }\n": typeof types.DeleteNotificationsDocument,
    "\n  mutation Redeliver($id: ID!) {\n    redeliver(deliveryId: $id) {\n      id channel target status attempts nextAttemptAt lastError lastStatusCode\n    }\n  }\n": typeof types.RedeliverDocument,
    "\n  query Products {\n    products {\n      id name securityGate myRole\n      productGroup { id name }\n      openObservationCounts { critical high medium low none unknown }\n    }\n    productGroups { id name }\n  }\n": typeof types.ProductsDocument,
    "\n  mutation CreateProduct($input: ProductInput!) {\n    createProduct(input: $input) { id name }\n  }\n": typeof types.CreateProductDocument,
    "\n  query Product($id: ID!) {\n    product(id: $id) {\n      id name description securityGate securityGateActive myRole\n      productGroup { id name }\n      thresholds { critical high medium low none unknown }\n      openObservationCounts { critical high medium low none unknown }\n      notificationEmailTo notificationMsTeamsWebhook notificationSlackWebhook\n      members { role user { id username fullName } }\n      observations { id title severity status scanner updatedAt }\n    }\n    notifications(filter: { productId: $id, type: SECURITY_GATE }, first: 25) {\n      edges { node { id name createdAt viewed } }\n    }\n  }\n": typeof types.ProductDocument,
    "\n  mutation UpdateProduct($id: ID!, $input: ProductPatch!) {\n    updateProduct(id: $id, input: $input) {\n      id securityGate securityGateActive\n      thresholds { critical high medium low none unknown }\n      notificationEmailTo notificationMsTeamsWebhook notificationSlackWebhook\n    }\n  }\n": typeof types.UpdateProductDocument,
    "\n  mutation SetMember($productId: ID!, $userId: ID, $user: String, $role: Role!) {\n    setProductMember(productId: $productId, userId: $userId, user: $user, role: $role) { role user { id } }\n  }\n": typeof types.SetMemberDocument,
    "\n  mutation RemoveMember($productId: ID!, $userId: ID!) {\n    removeProductMember(productId: $productId, userId: $userId)\n  }\n": typeof types.RemoveMemberDocument,
    "\n  query Users {\n    users { id username fullName email isAdmin }\n  }\n": typeof types.UsersDocument,
    "\n  mutation CreateUser($input: CreateUserInput!) {\n    createUser(input: $input) { id username }\n  }\n": typeof types.CreateUserDocument,
    "\n  query ProductGroups {\n    productGroups {\n      id name description securityGateActive\n      products { id name securityGate }\n      members { role user { id username } }\n    }\n  }\n": typeof types.ProductGroupsDocument,
    "\n  mutation CreateProductGroup($input: ProductGroupInput!) {\n    createProductGroup(input: $input) { id name }\n  }\n": typeof types.CreateProductGroupDocument,
    "\n  query Settings {\n    settings {\n      baseUrlFrontend emailFrom exceptionEmailTo exceptionMsTeamsWebhook exceptionSlackWebhook\n      exceptionRateLimitSeconds securityGateActive emailEnabled\n      thresholds { critical high medium low none unknown }\n    }\n  }\n": typeof types.SettingsDocument,
    "\n  mutation UpdateSettings($input: SettingsInput!) {\n    updateSettings(input: $input) {\n      baseUrlFrontend emailFrom exceptionEmailTo exceptionMsTeamsWebhook exceptionSlackWebhook\n      exceptionRateLimitSeconds securityGateActive emailEnabled\n      thresholds { critical high medium low none unknown }\n    }\n  }\n": typeof types.UpdateSettingsDocument,
    "\n  mutation SendTest($channel: Channel!, $target: String!) {\n    sendTestNotification(channel: $channel, target: $target) {\n      id channel target status attempts lastError lastStatusCode nextAttemptAt\n    }\n  }\n": typeof types.SendTestDocument,
    "\n  query Delivery($id: ID!) {\n    delivery(id: $id) {\n      id channel target status attempts lastError lastStatusCode nextAttemptAt\n    }\n  }\n": typeof types.DeliveryDocument,
};
const documents: Documents = {
    "\n  mutation Login($username: String!, $password: String!) {\n    login(username: $username, password: $password) {\n      token\n      user { id username fullName isAdmin }\n    }\n  }\n": types.LoginDocument,
    "\n  subscription UnviewedCount {\n    unviewedNotificationCount\n  }\n": types.UnviewedCountDocument,
    "\n  subscription NotificationCreated {\n    notificationCreated {\n      id type name message createdAt viewed\n      product { id name myRole }\n    }\n  }\n": types.NotificationCreatedDocument,
    "\n  subscription NotificationDeleted {\n    notificationDeleted\n  }\n": types.NotificationDeletedDocument,
    "\n  query Notifications($filter: NotificationFilter, $first: Int, $after: String) {\n    notifications(filter: $filter, first: $first, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges {\n        cursor\n        node {\n          id type name message createdAt viewed\n          product { id name myRole }\n        }\n      }\n    }\n  }\n": types.NotificationsDocument,
    "\n  query ProductNames {\n    products { id name }\n  }\n": types.ProductNamesDocument,
    "\n  query Notification($id: ID!) {\n    notification(id: $id) {\n      id type name message createdAt viewed function arguments trace repeatCount repeatSince\n      product { id name myRole }\n      user { id username fullName }\n      deliveries {\n        id channel target status attempts nextAttemptAt lastError lastStatusCode\n        history { attemptedAt outcome statusCode response }\n      }\n    }\n  }\n": types.NotificationDocument,
    "\n  mutation MarkViewed($ids: [ID!]!) {\n    markNotificationsViewed(ids: $ids)\n  }\n": types.MarkViewedDocument,
    "\n  mutation DeleteNotifications($ids: [ID!]!) {\n    deleteNotifications(ids: $ids)\n  }\n": types.DeleteNotificationsDocument,
    "\n  mutation Redeliver($id: ID!) {\n    redeliver(deliveryId: $id) {\n      id channel target status attempts nextAttemptAt lastError lastStatusCode\n    }\n  }\n": types.RedeliverDocument,
    "\n  query Products {\n    products {\n      id name securityGate myRole\n      productGroup { id name }\n      openObservationCounts { critical high medium low none unknown }\n    }\n    productGroups { id name }\n  }\n": types.ProductsDocument,
    "\n  mutation CreateProduct($input: ProductInput!) {\n    createProduct(input: $input) { id name }\n  }\n": types.CreateProductDocument,
    "\n  query Product($id: ID!) {\n    product(id: $id) {\n      id name description securityGate securityGateActive myRole\n      productGroup { id name }\n      thresholds { critical high medium low none unknown }\n      openObservationCounts { critical high medium low none unknown }\n      notificationEmailTo notificationMsTeamsWebhook notificationSlackWebhook\n      members { role user { id username fullName } }\n      observations { id title severity status scanner updatedAt }\n    }\n    notifications(filter: { productId: $id, type: SECURITY_GATE }, first: 25) {\n      edges { node { id name createdAt viewed } }\n    }\n  }\n": types.ProductDocument,
    "\n  mutation UpdateProduct($id: ID!, $input: ProductPatch!) {\n    updateProduct(id: $id, input: $input) {\n      id securityGate securityGateActive\n      thresholds { critical high medium low none unknown }\n      notificationEmailTo notificationMsTeamsWebhook notificationSlackWebhook\n    }\n  }\n": types.UpdateProductDocument,
    "\n  mutation SetMember($productId: ID!, $userId: ID, $user: String, $role: Role!) {\n    setProductMember(productId: $productId, userId: $userId, user: $user, role: $role) { role user { id } }\n  }\n": types.SetMemberDocument,
    "\n  mutation RemoveMember($productId: ID!, $userId: ID!) {\n    removeProductMember(productId: $productId, userId: $userId)\n  }\n": types.RemoveMemberDocument,
    "\n  query Users {\n    users { id username fullName email isAdmin }\n  }\n": types.UsersDocument,
    "\n  mutation CreateUser($input: CreateUserInput!) {\n    createUser(input: $input) { id username }\n  }\n": types.CreateUserDocument,
    "\n  query ProductGroups {\n    productGroups {\n      id name description securityGateActive\n      products { id name securityGate }\n      members { role user { id username } }\n    }\n  }\n": types.ProductGroupsDocument,
    "\n  mutation CreateProductGroup($input: ProductGroupInput!) {\n    createProductGroup(input: $input) { id name }\n  }\n": types.CreateProductGroupDocument,
    "\n  query Settings {\n    settings {\n      baseUrlFrontend emailFrom exceptionEmailTo exceptionMsTeamsWebhook exceptionSlackWebhook\n      exceptionRateLimitSeconds securityGateActive emailEnabled\n      thresholds { critical high medium low none unknown }\n    }\n  }\n": types.SettingsDocument,
    "\n  mutation UpdateSettings($input: SettingsInput!) {\n    updateSettings(input: $input) {\n      baseUrlFrontend emailFrom exceptionEmailTo exceptionMsTeamsWebhook exceptionSlackWebhook\n      exceptionRateLimitSeconds securityGateActive emailEnabled\n      thresholds { critical high medium low none unknown }\n    }\n  }\n": types.UpdateSettingsDocument,
    "\n  mutation SendTest($channel: Channel!, $target: String!) {\n    sendTestNotification(channel: $channel, target: $target) {\n      id channel target status attempts lastError lastStatusCode nextAttemptAt\n    }\n  }\n": types.SendTestDocument,
    "\n  query Delivery($id: ID!) {\n    delivery(id: $id) {\n      id channel target status attempts lastError lastStatusCode nextAttemptAt\n    }\n  }\n": types.DeliveryDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Login($username: String!, $password: String!) {\n    login(username: $username, password: $password) {\n      token\n      user { id username fullName isAdmin }\n    }\n  }\n"): (typeof documents)["\n  mutation Login($username: String!, $password: String!) {\n    login(username: $username, password: $password) {\n      token\n      user { id username fullName isAdmin }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription UnviewedCount {\n    unviewedNotificationCount\n  }\n"): (typeof documents)["\n  subscription UnviewedCount {\n    unviewedNotificationCount\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription NotificationCreated {\n    notificationCreated {\n      id type name message createdAt viewed\n      product { id name myRole }\n    }\n  }\n"): (typeof documents)["\n  subscription NotificationCreated {\n    notificationCreated {\n      id type name message createdAt viewed\n      product { id name myRole }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription NotificationDeleted {\n    notificationDeleted\n  }\n"): (typeof documents)["\n  subscription NotificationDeleted {\n    notificationDeleted\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Notifications($filter: NotificationFilter, $first: Int, $after: String) {\n    notifications(filter: $filter, first: $first, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges {\n        cursor\n        node {\n          id type name message createdAt viewed\n          product { id name myRole }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query Notifications($filter: NotificationFilter, $first: Int, $after: String) {\n    notifications(filter: $filter, first: $first, after: $after) {\n      totalCount\n      pageInfo { hasNextPage endCursor }\n      edges {\n        cursor\n        node {\n          id type name message createdAt viewed\n          product { id name myRole }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ProductNames {\n    products { id name }\n  }\n"): (typeof documents)["\n  query ProductNames {\n    products { id name }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Notification($id: ID!) {\n    notification(id: $id) {\n      id type name message createdAt viewed function arguments trace repeatCount repeatSince\n      product { id name myRole }\n      user { id username fullName }\n      deliveries {\n        id channel target status attempts nextAttemptAt lastError lastStatusCode\n        history { attemptedAt outcome statusCode response }\n      }\n    }\n  }\n"): (typeof documents)["\n  query Notification($id: ID!) {\n    notification(id: $id) {\n      id type name message createdAt viewed function arguments trace repeatCount repeatSince\n      product { id name myRole }\n      user { id username fullName }\n      deliveries {\n        id channel target status attempts nextAttemptAt lastError lastStatusCode\n        history { attemptedAt outcome statusCode response }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation MarkViewed($ids: [ID!]!) {\n    markNotificationsViewed(ids: $ids)\n  }\n"): (typeof documents)["\n  mutation MarkViewed($ids: [ID!]!) {\n    markNotificationsViewed(ids: $ids)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteNotifications($ids: [ID!]!) {\n    deleteNotifications(ids: $ids)\n  }\n"): (typeof documents)["\n  mutation DeleteNotifications($ids: [ID!]!) {\n    deleteNotifications(ids: $ids)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Redeliver($id: ID!) {\n    redeliver(deliveryId: $id) {\n      id channel target status attempts nextAttemptAt lastError lastStatusCode\n    }\n  }\n"): (typeof documents)["\n  mutation Redeliver($id: ID!) {\n    redeliver(deliveryId: $id) {\n      id channel target status attempts nextAttemptAt lastError lastStatusCode\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Products {\n    products {\n      id name securityGate myRole\n      productGroup { id name }\n      openObservationCounts { critical high medium low none unknown }\n    }\n    productGroups { id name }\n  }\n"): (typeof documents)["\n  query Products {\n    products {\n      id name securityGate myRole\n      productGroup { id name }\n      openObservationCounts { critical high medium low none unknown }\n    }\n    productGroups { id name }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateProduct($input: ProductInput!) {\n    createProduct(input: $input) { id name }\n  }\n"): (typeof documents)["\n  mutation CreateProduct($input: ProductInput!) {\n    createProduct(input: $input) { id name }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Product($id: ID!) {\n    product(id: $id) {\n      id name description securityGate securityGateActive myRole\n      productGroup { id name }\n      thresholds { critical high medium low none unknown }\n      openObservationCounts { critical high medium low none unknown }\n      notificationEmailTo notificationMsTeamsWebhook notificationSlackWebhook\n      members { role user { id username fullName } }\n      observations { id title severity status scanner updatedAt }\n    }\n    notifications(filter: { productId: $id, type: SECURITY_GATE }, first: 25) {\n      edges { node { id name createdAt viewed } }\n    }\n  }\n"): (typeof documents)["\n  query Product($id: ID!) {\n    product(id: $id) {\n      id name description securityGate securityGateActive myRole\n      productGroup { id name }\n      thresholds { critical high medium low none unknown }\n      openObservationCounts { critical high medium low none unknown }\n      notificationEmailTo notificationMsTeamsWebhook notificationSlackWebhook\n      members { role user { id username fullName } }\n      observations { id title severity status scanner updatedAt }\n    }\n    notifications(filter: { productId: $id, type: SECURITY_GATE }, first: 25) {\n      edges { node { id name createdAt viewed } }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateProduct($id: ID!, $input: ProductPatch!) {\n    updateProduct(id: $id, input: $input) {\n      id securityGate securityGateActive\n      thresholds { critical high medium low none unknown }\n      notificationEmailTo notificationMsTeamsWebhook notificationSlackWebhook\n    }\n  }\n"): (typeof documents)["\n  mutation UpdateProduct($id: ID!, $input: ProductPatch!) {\n    updateProduct(id: $id, input: $input) {\n      id securityGate securityGateActive\n      thresholds { critical high medium low none unknown }\n      notificationEmailTo notificationMsTeamsWebhook notificationSlackWebhook\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SetMember($productId: ID!, $userId: ID, $user: String, $role: Role!) {\n    setProductMember(productId: $productId, userId: $userId, user: $user, role: $role) { role user { id } }\n  }\n"): (typeof documents)["\n  mutation SetMember($productId: ID!, $userId: ID, $user: String, $role: Role!) {\n    setProductMember(productId: $productId, userId: $userId, user: $user, role: $role) { role user { id } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RemoveMember($productId: ID!, $userId: ID!) {\n    removeProductMember(productId: $productId, userId: $userId)\n  }\n"): (typeof documents)["\n  mutation RemoveMember($productId: ID!, $userId: ID!) {\n    removeProductMember(productId: $productId, userId: $userId)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Users {\n    users { id username fullName email isAdmin }\n  }\n"): (typeof documents)["\n  query Users {\n    users { id username fullName email isAdmin }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateUser($input: CreateUserInput!) {\n    createUser(input: $input) { id username }\n  }\n"): (typeof documents)["\n  mutation CreateUser($input: CreateUserInput!) {\n    createUser(input: $input) { id username }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ProductGroups {\n    productGroups {\n      id name description securityGateActive\n      products { id name securityGate }\n      members { role user { id username } }\n    }\n  }\n"): (typeof documents)["\n  query ProductGroups {\n    productGroups {\n      id name description securityGateActive\n      products { id name securityGate }\n      members { role user { id username } }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateProductGroup($input: ProductGroupInput!) {\n    createProductGroup(input: $input) { id name }\n  }\n"): (typeof documents)["\n  mutation CreateProductGroup($input: ProductGroupInput!) {\n    createProductGroup(input: $input) { id name }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Settings {\n    settings {\n      baseUrlFrontend emailFrom exceptionEmailTo exceptionMsTeamsWebhook exceptionSlackWebhook\n      exceptionRateLimitSeconds securityGateActive emailEnabled\n      thresholds { critical high medium low none unknown }\n    }\n  }\n"): (typeof documents)["\n  query Settings {\n    settings {\n      baseUrlFrontend emailFrom exceptionEmailTo exceptionMsTeamsWebhook exceptionSlackWebhook\n      exceptionRateLimitSeconds securityGateActive emailEnabled\n      thresholds { critical high medium low none unknown }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateSettings($input: SettingsInput!) {\n    updateSettings(input: $input) {\n      baseUrlFrontend emailFrom exceptionEmailTo exceptionMsTeamsWebhook exceptionSlackWebhook\n      exceptionRateLimitSeconds securityGateActive emailEnabled\n      thresholds { critical high medium low none unknown }\n    }\n  }\n"): (typeof documents)["\n  mutation UpdateSettings($input: SettingsInput!) {\n    updateSettings(input: $input) {\n      baseUrlFrontend emailFrom exceptionEmailTo exceptionMsTeamsWebhook exceptionSlackWebhook\n      exceptionRateLimitSeconds securityGateActive emailEnabled\n      thresholds { critical high medium low none unknown }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SendTest($channel: Channel!, $target: String!) {\n    sendTestNotification(channel: $channel, target: $target) {\n      id channel target status attempts lastError lastStatusCode nextAttemptAt\n    }\n  }\n"): (typeof documents)["\n  mutation SendTest($channel: Channel!, $target: String!) {\n    sendTestNotification(channel: $channel, target: $target) {\n      id channel target status attempts lastError lastStatusCode nextAttemptAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Delivery($id: ID!) {\n    delivery(id: $id) {\n      id channel target status attempts lastError lastStatusCode nextAttemptAt\n    }\n  }\n"): (typeof documents)["\n  query Delivery($id: ID!) {\n    delivery(id: $id) {\n      id channel target status attempts lastError lastStatusCode nextAttemptAt\n    }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;
// Every GraphQL document the app sends. Their types are generated into
// src/gql/ by `npm run codegen` from ../schema.graphql.
import { graphql } from './gql';

export const LoginMutation = graphql(`
  mutation Login($username: String!, $password: String!) {
    login(username: $username, password: $password) {
      token
      user { id username fullName isAdmin }
    }
  }
`);

export const UnviewedCountSubscription = graphql(`
  subscription UnviewedCount {
    unviewedNotificationCount
  }
`);

export const NotificationCreatedSubscription = graphql(`
  subscription NotificationCreated {
    notificationCreated {
      id type name message createdAt viewed
      product { id name myRole }
    }
  }
`);

export const NotificationDeletedSubscription = graphql(`
  subscription NotificationDeleted {
    notificationDeleted
  }
`);

export const NotificationsQuery = graphql(`
  query Notifications($filter: NotificationFilter, $first: Int, $after: String) {
    notifications(filter: $filter, first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges {
        cursor
        node {
          id type name message createdAt viewed
          product { id name myRole }
        }
      }
    }
  }
`);

export const ProductNamesQuery = graphql(`
  query ProductNames {
    products { id name }
  }
`);

export const NotificationQuery = graphql(`
  query Notification($id: ID!) {
    notification(id: $id) {
      id type name message createdAt viewed function arguments trace repeatCount repeatSince
      product { id name myRole }
      user { id username fullName }
      deliveries {
        id channel target status attempts nextAttemptAt lastError lastStatusCode
        history { attemptedAt outcome statusCode response }
      }
    }
  }
`);

export const MarkViewedMutation = graphql(`
  mutation MarkViewed($ids: [ID!]!) {
    markNotificationsViewed(ids: $ids)
  }
`);

export const DeleteNotificationsMutation = graphql(`
  mutation DeleteNotifications($ids: [ID!]!) {
    deleteNotifications(ids: $ids)
  }
`);

export const RedeliverMutation = graphql(`
  mutation Redeliver($id: ID!) {
    redeliver(deliveryId: $id) {
      id channel target status attempts nextAttemptAt lastError lastStatusCode
    }
  }
`);

export const ProductsQuery = graphql(`
  query Products {
    products {
      id name securityGate myRole
      productGroup { id name }
      openObservationCounts { critical high medium low none unknown }
    }
    productGroups { id name }
  }
`);

export const CreateProductMutation = graphql(`
  mutation CreateProduct($input: ProductInput!) {
    createProduct(input: $input) { id name }
  }
`);

export const ProductQuery = graphql(`
  query Product($id: ID!) {
    product(id: $id) {
      id name description securityGate securityGateActive myRole
      productGroup { id name }
      thresholds { critical high medium low none unknown }
      openObservationCounts { critical high medium low none unknown }
      notificationEmailTo notificationMsTeamsWebhook notificationSlackWebhook
      members { role user { id username fullName } }
      observations { id title severity status scanner updatedAt }
    }
    notifications(filter: { productId: $id, type: SECURITY_GATE }, first: 25) {
      edges { node { id name createdAt viewed } }
    }
  }
`);

export const UpdateProductMutation = graphql(`
  mutation UpdateProduct($id: ID!, $input: ProductPatch!) {
    updateProduct(id: $id, input: $input) {
      id securityGate securityGateActive
      thresholds { critical high medium low none unknown }
      notificationEmailTo notificationMsTeamsWebhook notificationSlackWebhook
    }
  }
`);

export const SetMemberMutation = graphql(`
  mutation SetMember($productId: ID!, $userId: ID, $user: String, $role: Role!) {
    setProductMember(productId: $productId, userId: $userId, user: $user, role: $role) { role user { id } }
  }
`);

export const RemoveMemberMutation = graphql(`
  mutation RemoveMember($productId: ID!, $userId: ID!) {
    removeProductMember(productId: $productId, userId: $userId)
  }
`);

export const UsersQuery = graphql(`
  query Users {
    users { id username fullName email isAdmin }
  }
`);

export const CreateUserMutation = graphql(`
  mutation CreateUser($input: CreateUserInput!) {
    createUser(input: $input) { id username }
  }
`);

export const ProductGroupsQuery = graphql(`
  query ProductGroups {
    productGroups {
      id name description securityGateActive
      products { id name securityGate }
      members { role user { id username } }
    }
  }
`);

export const CreateProductGroupMutation = graphql(`
  mutation CreateProductGroup($input: ProductGroupInput!) {
    createProductGroup(input: $input) { id name }
  }
`);

export const SettingsQuery = graphql(`
  query Settings {
    settings {
      baseUrlFrontend emailFrom exceptionEmailTo exceptionMsTeamsWebhook exceptionSlackWebhook
      exceptionRateLimitSeconds securityGateActive emailEnabled
      thresholds { critical high medium low none unknown }
    }
  }
`);

export const UpdateSettingsMutation = graphql(`
  mutation UpdateSettings($input: SettingsInput!) {
    updateSettings(input: $input) {
      baseUrlFrontend emailFrom exceptionEmailTo exceptionMsTeamsWebhook exceptionSlackWebhook
      exceptionRateLimitSeconds securityGateActive emailEnabled
      thresholds { critical high medium low none unknown }
    }
  }
`);

export const SendTestMutation = graphql(`
  mutation SendTest($channel: Channel!, $target: String!) {
    sendTestNotification(channel: $channel, target: $target) {
      id channel target status attempts lastError lastStatusCode nextAttemptAt
    }
  }
`);

export const DeliveryQuery = graphql(`
  query Delivery($id: ID!) {
    delivery(id: $id) {
      id channel target status attempts lastError lastStatusCode nextAttemptAt
    }
  }
`);

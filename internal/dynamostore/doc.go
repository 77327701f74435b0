// Package dynamostore is the DynamoDB implementation of chat.Store over the chat table, laid
// out as internal/contract describes it (keys [contract.AttrPK] and [contract.AttrSK], the
// sparse index [contract.IndexByRoom] that lists a room's members, the TTL attribute
// [contract.AttrExpiresAt]): connection, membership, rate limit and message items.
//
// The rate limit bucket lives in the connection's partition, so DeleteConnection removes it
// with the rest and TTL removes it with its connection. It is the only item the Store writes
// with UpdateItem.
//
// TTL deletion lags, so readers treat an item whose expiresAt is not after now as absent. An
// item stored with a zero ExpiresAt has no expiresAt and never expires.
package dynamostore

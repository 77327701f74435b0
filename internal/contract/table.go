package contract

import (
	"hash/fnv"
	"strconv"
)

// The chat table: one on-demand table in a single-table design, with two sparse global
// secondary indexes: [IndexByRoom] lists a room's members, in [RoomShards] partitions chosen by
// a hash of the connection id ([RoomShard]) so that a large room's members are read in
// parallel and its joins spread over several partitions; [IndexByUser] lists a user's
// connections.
//
//	connection  pk=CONN#<connectionId>  sk=CONN
//	            gsi2pk=USER#<userId>  gsi2sk=CONN#<connectionId>
//	            userId, displayName, connectedAt (epoch ms), expiresAt
//	membership  pk=CONN#<connectionId>  sk=ROOM#<roomId>
//	            gsi1pk=ROOM#<shard>#<roomId>  gsi1sk=CONN#<connectionId>
//	            userId, displayName, joinedAt (epoch ms), expiresAt
//	user        pk=USER#<userId>  sk=PROFILE
//	            userId, displayName, connectedAt (the latest connection's), expiresAt
//	rate limit  pk=CONN#<connectionId>  sk=RATE
//	            tokens (N, fractional), updatedAt (epoch ms), expiresAt (the connection's)
//	room head   pk=ROOM#<roomId>  sk=HEAD
//	            seq (the room's last sequence number; no expiresAt: numbers are never reused)
//	message     pk=ROOM#<roomId>  sk=SEQ#<sequence number, 19 digits>
//	            seq, messageId, userId, displayName, text, sentAt (epoch ms), expiresAt,
//	            and toUserId (direct), system (published), eventType and data (stored events)
//	presence    pk=ROOM#<roomId>  sk=USER#<userId>
//	            userId, displayName, connections (SS: the user's connections in the room),
//	            expiresAt
//	talk        pk=ROOM#<conversation roomId>  sk=USERS
//	            users (SS: the two users of a direct conversation)
//	sent        pk=ROOM#<roomId>  sk=CMID#<length of userId>#<userId>#<clientMessageId>
//	            seq, messageId, sentAt (epoch ms), delivered, undelivered, gone (once
//	            acknowledged), expiresAt (the clientMessageId window)
//
// [AttrExpiresAt] (epoch seconds) is the TTL attribute. TTL deletion lags, so readers treat an
// item whose expiresAt is not after now as absent.
const (
	// AttrPK is the table's partition key (S).
	AttrPK = "pk"
	// AttrSK is the table's sort key (S).
	AttrSK = "sk"
	// AttrGSI1PK is the partition key (S) of [IndexByRoom]; only memberships have it.
	AttrGSI1PK = "gsi1pk"
	// AttrGSI1SK is the sort key (S) of [IndexByRoom].
	AttrGSI1SK = "gsi1sk"
	// AttrGSI2PK is the partition key (S) of [IndexByUser]; only connections have it.
	AttrGSI2PK = "gsi2pk"
	// AttrGSI2SK is the sort key (S) of [IndexByUser].
	AttrGSI2SK = "gsi2sk"
	// AttrToUserID is a direct message's recipient (S).
	AttrToUserID = "toUserId"
	// AttrSystem marks a message published by a backend (BOOL, true when present).
	AttrSystem = "system"
	// AttrEventType and AttrData are a stored application event's type (S) and JSON data (S).
	AttrEventType = "eventType"
	AttrData      = "data"
	// AttrUsers is the set of the two users of a direct conversation (SS).
	AttrUsers = "users"
	// AttrExpiresAt is the TTL attribute (N, epoch seconds).
	AttrExpiresAt = "expiresAt"
	// AttrUserID is the user's id (S).
	AttrUserID = "userId"
	// AttrDisplayName is the user's display name (S).
	AttrDisplayName = "displayName"
	// AttrConnectedAt is when a connection opened (N, epoch milliseconds).
	AttrConnectedAt = "connectedAt"
	// AttrJoinedAt is when a connection joined a room (N, epoch milliseconds).
	AttrJoinedAt = "joinedAt"
	// AttrMessageID is a message's id (S).
	AttrMessageID = "messageId"
	// AttrText is a message's text (S).
	AttrText = "text"
	// AttrSentAt is when a message was sent (N, epoch milliseconds).
	AttrSentAt = "sentAt"
	// AttrSeq is a message's sequence number in its room, and on the room's head item the
	// last one given (N).
	AttrSeq = "seq"
	// AttrTokens is the tokens left in a rate limit bucket (N, fractional) at AttrUpdatedAt.
	AttrTokens = "tokens"
	// AttrUpdatedAt is when a rate limit bucket last gave a token (N, epoch milliseconds).
	AttrUpdatedAt = "updatedAt"
	// AttrConnections is the set of a user's connections in a room (SS).
	AttrConnections = "connections"
	// AttrDelivered, AttrUndelivered and AttrGone are a sent message's acknowledged counts (N).
	AttrDelivered   = "delivered"
	AttrUndelivered = "undelivered"
	AttrGone        = "gone"
)

// Index and key values.
const (
	// IndexByRoom is the global secondary index that lists a room's memberships, shard by
	// shard.
	IndexByRoom = "byRoom"
	// IndexByUser is the global secondary index that lists a user's connections.
	IndexByUser = "byUser"
	// PrefixConnection starts the partition key of connection and membership items and the
	// byRoom sort key.
	PrefixConnection = "CONN#"
	// PrefixRoom starts the partition key of message items, the sort key of memberships and
	// the byRoom partition key.
	PrefixRoom = "ROOM#"
	// PrefixMessage starts the sort key of message items; the sequence number follows, in 19
	// zero-padded digits, so that keys sort as numbers.
	PrefixMessage = "SEQ#"
	// PrefixUser starts the sort key of presence items.
	PrefixUser = "USER#"
	// PrefixSent starts the sort key of the items that remember a sender's clientMessageId.
	PrefixSent = "CMID#"
	// SortKeyConnection is the sort key of a connection item.
	SortKeyConnection = "CONN"
	// SortKeyRate is the sort key of a connection's rate limit bucket.
	SortKeyRate = "RATE"
	// SortKeyHead is the sort key of a room's head item, which holds its last sequence number.
	SortKeyHead = "HEAD"
	// SortKeyProfile is the sort key of a user item.
	SortKeyProfile = "PROFILE"
	// SortKeyUsers is the sort key of a direct conversation's item that names its two users.
	SortKeyUsers = "USERS"
)

// ByUserProjection returns the non-key attributes that [IndexByUser] projects (INCLUDE).
func ByUserProjection() []string {
	return []string{AttrExpiresAt}
}

// ByRoomProjection returns the non-key attributes that [IndexByRoom] projects (INCLUDE), in
// the order the template lists them.
func ByRoomProjection() []string {
	return []string{AttrUserID, AttrDisplayName, AttrExpiresAt, AttrJoinedAt}
}

// RoomShards is how many partitions of [IndexByRoom] a room's memberships are spread over.
// Changing it makes the memberships written before unreadable until they expire with their
// connections.
const RoomShards = 8

// RoomShard returns the shard, in [0, RoomShards), of a connection's memberships: the FNV-1a
// hash of the connection id, modulo RoomShards.
func RoomShard(connectionID string) int {
	h := fnv.New32a()
	h.Write([]byte(connectionID))
	return int(h.Sum32() % RoomShards)
}

// RoomShardKey returns the [IndexByRoom] partition key of a room's shard.
func RoomShardKey(roomID string, shard int) string {
	return PrefixRoom + strconv.Itoa(shard) + "#" + roomID
}

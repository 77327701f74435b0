package ddblocal

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestStartPutGetClose(t *testing.T) {
	ctx := context.Background()
	begin := time.Now()
	s, err := Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("DynamoDB Local answered after %v at %s", time.Since(begin).Round(time.Millisecond), s.Endpoint())
	defer s.Close()
	if !strings.HasPrefix(s.Endpoint(), "http://127.0.0.1:") {
		t.Errorf("Endpoint() = %q, want http://127.0.0.1:<port>", s.Endpoint())
	}

	client, err := NewClient(s.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	_, err = client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("things"),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String("things"),
		Item: map[string]types.AttributeValue{
			"id":    &types.AttributeValueMemberS{Value: "a"},
			"color": &types.AttributeValueMemberS{Value: "blue"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}

	// -sharedDb: a client with other credentials and region sees the same table.
	other := dynamodb.New(dynamodb.Options{
		Region:       "eu-west-3",
		BaseEndpoint: aws.String(s.Endpoint()),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "someoneelse", SecretAccessKey: "x"}, nil
		}),
	})
	got, err := other.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String("things"),
		Key:       map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "a"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	color, ok := got.Item["color"].(*types.AttributeValueMemberS)
	if !ok || color.Value != "blue" {
		t.Fatalf("GetItem = %#v, want color blue", got.Item)
	}

	pid := s.cmd.Process.Pid
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	select {
	case <-s.exited:
	default:
		t.Fatal("process has not exited after Close")
	}
	assertGroupGone(t, pid)
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(s.Endpoint(), "http://"), time.Second)
	if err == nil {
		conn.Close()
		t.Errorf("%s still accepts connections after Close", s.Endpoint())
	}
}

// TestPortTaken checks that a port someone else holds fails the start quickly with errBind
// (the JVM itself does not exit) and leaves no process behind.
func TestPortTaken(t *testing.T) {
	ctx := context.Background()
	l, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	java, err := FindJava(ctx)
	if err != nil {
		t.Fatal(err)
	}
	jar, err := FindJar(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(ctx, StartTimeout)
	defer cancel()
	s, err := startOn(ctx, java, jar, l.Addr().(*net.TCPAddr).Port)
	if err == nil {
		s.Close()
		t.Fatal("startOn a taken port succeeded")
	}
	if !errors.Is(err, errBind) {
		t.Fatalf("startOn a taken port: %v, want errBind", err)
	}
}

func TestNewClientRejectsBadEndpoint(t *testing.T) {
	for _, e := range []string{"", "127.0.0.1:8000", "ftp://x", "http://"} {
		if _, err := NewClient(e); err == nil {
			t.Errorf("NewClient(%q) succeeded", e)
		}
	}
}

func TestTailKeepsLastBytes(t *testing.T) {
	tl := &tail{max: 5}
	tl.Write([]byte("abc"))
	tl.Write([]byte("defg"))
	if got := tl.String(); got != "cdefg" {
		t.Errorf("tail = %q, want %q", got, "cdefg")
	}
	if !tl.contains("def") || tl.contains("ab") {
		t.Error("contains disagrees with the kept bytes")
	}
}

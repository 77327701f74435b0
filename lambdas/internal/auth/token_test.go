package auth

import (
	"errors"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

func TestTokenFromRequest(t *testing.T) {
	const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"
	cases := []struct {
		name       string
		req        events.APIGatewayCustomAuthorizerRequestTypeRequest
		wantToken  string
		wantSource string
		wantErr    error
	}{
		{
			name:    "nothing",
			req:     events.APIGatewayCustomAuthorizerRequestTypeRequest{},
			wantErr: ErrNoToken,
		},
		{
			name: "other query parameters and protocols only",
			req: events.APIGatewayCustomAuthorizerRequestTypeRequest{
				QueryStringParameters: map[string]string{"room": "lobby"},
				Headers:               map[string]string{"Sec-WebSocket-Protocol": "chat.v1"},
			},
			wantErr: ErrNoToken,
		},
		{
			name:       "query string",
			req:        events.APIGatewayCustomAuthorizerRequestTypeRequest{QueryStringParameters: map[string]string{"token": jwt}},
			wantToken:  jwt,
			wantSource: SourceQuery,
		},
		{
			name:       "multi-value query string only",
			req:        events.APIGatewayCustomAuthorizerRequestTypeRequest{MultiValueQueryStringParameters: map[string][]string{"token": {jwt}}},
			wantToken:  jwt,
			wantSource: SourceQuery,
		},
		{
			name:       "empty query token is present",
			req:        events.APIGatewayCustomAuthorizerRequestTypeRequest{QueryStringParameters: map[string]string{"token": ""}},
			wantToken:  "",
			wantSource: SourceQuery,
		},
		{
			name:       "protocol header as browsers send it",
			req:        events.APIGatewayCustomAuthorizerRequestTypeRequest{Headers: map[string]string{"Sec-WebSocket-Protocol": "chat.v1, bearer." + jwt}},
			wantToken:  jwt,
			wantSource: SourceProtocol,
		},
		{
			name:       "protocol header name in lower case, bearer first, no spaces",
			req:        events.APIGatewayCustomAuthorizerRequestTypeRequest{Headers: map[string]string{"sec-websocket-protocol": "bearer." + jwt + ",chat.v1"}},
			wantToken:  jwt,
			wantSource: SourceProtocol,
		},
		{
			name: "protocol in multi-value headers, split over two lines",
			req: events.APIGatewayCustomAuthorizerRequestTypeRequest{
				MultiValueHeaders: map[string][]string{"SEC-WEBSOCKET-PROTOCOL": {"chat.v1", "bearer." + jwt}},
			},
			wantToken:  jwt,
			wantSource: SourceProtocol,
		},
		{
			name: "same token in headers and multi-value headers",
			req: events.APIGatewayCustomAuthorizerRequestTypeRequest{
				Headers:           map[string]string{"Sec-WebSocket-Protocol": "chat.v1, bearer." + jwt},
				MultiValueHeaders: map[string][]string{"Sec-WebSocket-Protocol": {"chat.v1, bearer." + jwt}},
			},
			wantToken:  jwt,
			wantSource: SourceProtocol,
		},
		{
			name:       "empty bearer entry is present",
			req:        events.APIGatewayCustomAuthorizerRequestTypeRequest{Headers: map[string]string{"Sec-WebSocket-Protocol": "chat.v1, bearer."}},
			wantToken:  "",
			wantSource: SourceProtocol,
		},
		{
			name:       "bearer must be a whole entry prefix",
			req:        events.APIGatewayCustomAuthorizerRequestTypeRequest{Headers: map[string]string{"Sec-WebSocket-Protocol": "chat.v1, xbearer." + jwt}},
			wantErr:    ErrNoToken,
			wantSource: "",
		},
		{
			name: "same token in query and protocol",
			req: events.APIGatewayCustomAuthorizerRequestTypeRequest{
				QueryStringParameters: map[string]string{"token": jwt},
				Headers:               map[string]string{"Sec-WebSocket-Protocol": "chat.v1, bearer." + jwt},
			},
			wantToken:  jwt,
			wantSource: SourceQuery,
		},
		{
			name: "different tokens in query and protocol",
			req: events.APIGatewayCustomAuthorizerRequestTypeRequest{
				QueryStringParameters: map[string]string{"token": jwt},
				Headers:               map[string]string{"Sec-WebSocket-Protocol": "chat.v1, bearer.other"},
			},
			wantErr: ErrAmbiguousToken,
		},
		{
			name:    "two different bearer entries",
			req:     events.APIGatewayCustomAuthorizerRequestTypeRequest{Headers: map[string]string{"Sec-WebSocket-Protocol": "bearer." + jwt + ", bearer.other"}},
			wantErr: ErrAmbiguousToken,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			token, source, err := TokenFromRequest(tc.req)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				if token != "" || source != "" {
					t.Errorf("with an error got token %q source %q, want both empty", token, source)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if token != tc.wantToken || source != tc.wantSource {
				t.Errorf("got (%q, %q), want (%q, %q)", token, source, tc.wantToken, tc.wantSource)
			}
		})
	}
}

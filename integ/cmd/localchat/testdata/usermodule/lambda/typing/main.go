// Command typing serves the typing route: it answers the sender with who is typing where.
package main

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

// typing is the route's message (the gateway checked it against the route's schema).
type typing struct {
	RoomID string `json:"roomId"`
	State  string `json:"state"`
}

// reply is the frame sent back through the route response.
type reply struct {
	Type   string `json:"type"`
	RoomID string `json:"roomId"`
	State  string `json:"state"`
	UserID string `json:"userId"`
}

func handle(_ context.Context, req events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
	var in typing
	if err := json.Unmarshal([]byte(req.Body), &in); err != nil {
		return events.APIGatewayProxyResponse{StatusCode: 400, Body: `{"type":"error","code":"invalid_json"}`}, nil
	}
	user, _ := req.RequestContext.Authorizer.(map[string]any)["userId"].(string)
	body, err := json.Marshal(reply{Type: "typing", RoomID: in.RoomID, State: in.State, UserID: user})
	if err != nil {
		return events.APIGatewayProxyResponse{}, err
	}
	return events.APIGatewayProxyResponse{StatusCode: 200, Body: string(body)}, nil
}

func main() { lambda.Start(handle) }

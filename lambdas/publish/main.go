// Command publish is a placeholder so that the construct can bundle the publish function
// before the real handler (publish requests and fan-out shards from the publish queue) lands.
package main

func main() {}

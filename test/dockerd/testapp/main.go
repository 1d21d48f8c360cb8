// Command testapp is the only program in the test images the harness
// imports: it prints its argv and waits for SIGTERM, standing in for
// redis-server, mongod, distccd and simswarm inside swarm tasks.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	fmt.Println("testapp", os.Args)
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGTERM, syscall.SIGINT)
	<-c
}

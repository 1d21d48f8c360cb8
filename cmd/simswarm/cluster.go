package main

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

func newClusterCmd(g *globals) *cobra.Command {
	c := &cobra.Command{
		Use:   "cluster",
		Short: "Machines for the swarm: an AWS fleet simswarm creates, or machines you have",
		Long: `Machines for the swarm that "simswarm stack deploy" runs on.

  simswarm cluster aws up|status|connect|disconnect|halt|resume|destroy
      a manager and N workers on EC2, created, paused and removed by simswarm
  simswarm cluster local init|join
      your own machines: this one becomes the manager, the others join it`,
	}
	c.AddCommand(newClusterAWSCmd(g), newClusterLocalCmd(g))
	return c
}

// confirm asks a yes/no question on in; anything but y/yes is no, and so
// is the end of input (a script without --yes).
func confirm(in io.Reader, out io.Writer, question string) bool {
	fmt.Fprint(out, question+" [y/N] ")
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && line == "" {
		fmt.Fprintln(out)
		return false
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true
	}
	return false
}

package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/simswarm/simswarm/controller/client"
)

// clientFlags are the flags of every command that talks to a controller.
type clientFlags struct {
	server, tokenFile string
}

func (cf *clientFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&cf.server, "server", "", "controller URL, e.g. http://manager:8080 (or SIMSWARM_SERVER)")
	cmd.Flags().StringVar(&cf.tokenFile, "token-file", "", "file holding the API bearer token (or SIMSWARM_TOKEN)")
}

func (cf *clientFlags) client(cmd *cobra.Command) (*client.Client, error) {
	if err := flagsFromEnv(cmd.Flags()); err != nil {
		return nil, err
	}
	if cf.server == "" {
		return nil, invalidInput(fmt.Errorf("no controller: give --server or set SIMSWARM_SERVER"))
	}
	server := cf.server
	if !strings.Contains(server, "://") {
		server = "http://" + server
	}
	tok, err := readToken(cf.tokenFile)
	if err != nil {
		return nil, err
	}
	return client.New(server, tok), nil
}

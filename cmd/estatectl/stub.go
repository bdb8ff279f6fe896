package main

import "io"

func diagramCmd(args []string, stdout, stderr io.Writer) int { return 2 }

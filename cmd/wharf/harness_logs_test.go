package main

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwltypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

type cwlEvent struct {
	msg string
	at  time.Time
}

func cwlInput(e cwlEvent) cwltypes.InputLogEvent {
	return cwltypes.InputLogEvent{Message: aws.String(e.msg), Timestamp: aws.Int64(e.at.UnixMilli())}
}

package netns

import "time"

var (
	aLongTimeAgo = time.Unix(1, 0)
	noDeadline   = time.Time{}
)

package core

import (
	"strings"
	"unicode/utf8"
)

// Tag limits shared by EC2 and Elastic Load Balancing.
const (
	maxTagsPerResource = 50
	maxTagKeyLength    = 128 // Unicode characters
	maxTagValueLength  = 256 // Unicode characters
	reservedTagPrefix  = "aws:"
)

// Resource types of TagSpecifications, as EC2 spells them.
const (
	ResourceTypeVpc              = "vpc"
	ResourceTypeSubnet           = "subnet"
	ResourceTypeSecurityGroup    = "security-group"
	ResourceTypeInstance         = "instance"
	ResourceTypeNetworkInterface = "network-interface"
)

// TagSpecification is one entry of an EC2 create request's
// TagSpecifications: the tags to put on the created resource of one type.
type TagSpecification struct {
	ResourceType string
	Tags         []Tag
}

// tagProblem says what is wrong with a tag set. Each API spells these
// failures differently (EC2's InvalidParameterValue, ELBv2's
// DuplicateTagKeys, TooManyTags, ValidationError), so checkTags reports the
// problem and the caller picks the error.
type tagProblem int

// Tag problems found by checkTags.
const (
	tagKeyEmpty tagProblem = iota + 1
	tagKeyTooLong
	tagValueTooLong
	tagKeyReserved
	tagKeyDuplicate
	tagTooMany
	tagNotUTF8
)

// tagIssue is the first problem checkTags found and the key it concerns.
type tagIssue struct {
	Problem tagProblem
	Key     string
}

// checkTags applies the restrictions that every AWS tagging API shares: at
// most 50 tags, keys of 1 to 128 characters that do not start with "aws:"
// (in any case), values of at most 256 characters, no key twice.
func checkTags(tags []Tag) (tagIssue, bool) {
	if len(tags) > maxTagsPerResource {
		return tagIssue{Problem: tagTooMany}, false
	}
	seen := make(map[string]bool, len(tags))
	for _, t := range tags {
		switch {
		case !utf8.ValidString(t.Key) || !utf8.ValidString(t.Value):
			return tagIssue{tagNotUTF8, t.Key}, false
		case t.Key == "":
			return tagIssue{tagKeyEmpty, t.Key}, false
		case utf8.RuneCountInString(t.Key) > maxTagKeyLength:
			return tagIssue{tagKeyTooLong, t.Key}, false
		case utf8.RuneCountInString(t.Value) > maxTagValueLength:
			return tagIssue{tagValueTooLong, t.Key}, false
		case strings.HasPrefix(strings.ToLower(t.Key), reservedTagPrefix):
			return tagIssue{tagKeyReserved, t.Key}, false
		case seen[t.Key]:
			return tagIssue{tagKeyDuplicate, t.Key}, false
		}
		seen[t.Key] = true
	}
	return tagIssue{}, true
}

// validateEC2Tags checks tags with EC2's error codes and messages.
func validateEC2Tags(tags []Tag) error {
	issue, ok := checkTags(tags)
	if ok {
		return nil
	}
	switch issue.Problem {
	case tagTooMany:
		return Errorf(KindLimit, "TagLimitExceeded", "The maximum number of Tags for a resource has been reached.")
	case tagKeyEmpty:
		return invalidParameterValue("Tag key cannot be empty.")
	case tagKeyTooLong:
		return invalidParameterValue("Tag key exceeds the maximum length of %d characters", maxTagKeyLength)
	case tagValueTooLong:
		return invalidParameterValue("Tag value exceeds the maximum length of %d characters", maxTagValueLength)
	case tagKeyReserved:
		return invalidParameterValue("Value ( %s ) for parameter key is invalid. Tag keys starting with 'aws:' are reserved for internal use", issue.Key)
	case tagKeyDuplicate:
		return invalidParameterValue("Duplicate tag key '%s' specified.", issue.Key)
	default:
		return invalidParameterValue("Tags must be valid UTF-8.")
	}
}

// ec2TagsByType validates an EC2 create request's TagSpecifications and
// returns the tags for each resource type. allowed lists the resource types
// the operation creates; any other type is refused as AWS refuses it. The
// returned slices are copies, so callers may store them.
func ec2TagsByType(specs []TagSpecification, allowed ...string) (map[string][]Tag, error) {
	out := make(map[string][]Tag, len(specs))
	for _, s := range specs {
		if s.ResourceType == "" {
			return nil, missingParameter("ResourceType")
		}
		ok := false
		for _, a := range allowed {
			ok = ok || a == s.ResourceType
		}
		if !ok {
			return nil, invalidParameterValue("'%s' is not a valid taggable resource type for this operation.", s.ResourceType)
		}
		if _, dup := out[s.ResourceType]; dup {
			return nil, invalidParameterValue("The same resource type may not be specified more than once in tag specifications")
		}
		if len(s.Tags) == 0 {
			return nil, invalidParameterValue("Tag specification must have at least one tag")
		}
		if err := validateEC2Tags(s.Tags); err != nil {
			return nil, err
		}
		out[s.ResourceType] = append([]Tag(nil), s.Tags...)
	}
	return out, nil
}

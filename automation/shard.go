package automation

import (
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
)

// Shard is one runner's share of a fleet (--shard i/n): the stacks whose
// name hashes to Index of Count. Fleet is every stack that was shared out,
// so a merge can tell a stack that no shard ran.
type Shard struct {
	Index int      `json:"index"`
	Count int      `json:"count"`
	Fleet []string `json:"fleet"`
}

// String is the shard as --shard takes it: "i/n".
func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// ParseShard reads --shard's "i/n" (1 <= i <= n).
func ParseShard(spec string) (Shard, error) {
	i, n, ok := strings.Cut(strings.TrimSpace(spec), "/")
	index, ierr := strconv.Atoi(i)
	count, nerr := strconv.Atoi(n)
	if !ok || ierr != nil || nerr != nil || count < 1 || index < 1 || index > count {
		return Shard{}, fmt.Errorf("--shard %q: give i/n with 1 <= i <= n, e.g. --shard 2/3 for the second of three runners", spec)
	}
	return Shard{Index: index, Count: count}, nil
}

// ShardOf is the shard (1 to count) a stack belongs to: a hash of its name
// alone (FNV-1a), so every runner agrees whatever else the fleet holds.
func ShardOf(stack string, count int) int {
	h := fnv.New32a()
	h.Write([]byte(stack))
	return int(h.Sum32()%uint32(count)) + 1
}

// Of keeps the stacks of fleet that belong to the shard, in fleet's order,
// and records the fleet (sorted) in the shard.
func (s *Shard) Of(fleet []string) []string {
	s.Fleet = slices.Sorted(slices.Values(fleet))
	var out []string
	for _, name := range fleet {
		if ShardOf(name, s.Count) == s.Index {
			out = append(out, name)
		}
	}
	return out
}

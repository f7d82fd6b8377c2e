package aws

import (
	"fmt"
	"strconv"

	"github.com/postgis-platform/deployer/internal/standin"
)

func majorOf(version string) int {
	m, _, _ := versionParts(version)
	return m
}

// checkMajorUpgrade refuses a move to another major version without
// allowMajorVersionUpgrade, as ModifyDBInstance does; the check is on the
// request, so it holds whether the upgrade applies now or in the window.
// Upstream: the RDS API error InvalidParameterCombination ("The
// AllowMajorVersionUpgrade flag must be present when upgrading to a new
// major version"), through rds/instance.go resourceInstanceUpdate
// (input.AllowMajorVersionUpgrade from allow_major_version_upgrade).
func checkMajorUpgrade(props, old map[string]any) error {
	asked := standin.Str(props, "engineVersion")
	running := standin.Str(old, "engineVersionActual")
	if asked == "" || running == "" || majorOf(resolveVersion(asked)) == majorOf(running) {
		return nil
	}
	if !standin.Bool(props, "allowMajorVersionUpgrade") {
		return fmt.Errorf("InvalidParameterCombination: The AllowMajorVersionUpgrade flag must be present when upgrading to a new major version")
	}
	return nil
}

// checkParameterFamily refuses a parameter group whose family is not the
// one of the engine the instance runs when the group applies: the running
// major version, or the one a major upgrade in the same request moves to.
// Upstream: the RDS API error InvalidParameterCombination ("The parameter
// group … with DBParameterGroupFamily … can't be used for this instance"),
// through rds/instance.go resourceInstanceCreate and resourceInstanceUpdate.
func checkParameterFamily(c *standin.Cloud, props map[string]any, major int) error {
	name := standin.Str(props, "parameterGroupName")
	pg, ok := c.Objects[name]
	if name == "" || !ok || pg.Type != TypeParameterGroup {
		return nil
	}
	want := "postgres" + strconv.Itoa(major)
	if family := standin.Str(pg.Props, "family"); family != "" && family != want {
		return fmt.Errorf("InvalidParameterCombination: The parameter group %s with DBParameterGroupFamily %s can't be used for this instance. Use a parameter group with DBParameterGroupFamily %s", name, family, want)
	}
	return nil
}

package giotls

import "github.com/giotls/giotls/internal/verify"

// verifyIdentity is identity as the second opinion's tests pass it.
func verifyIdentity(identity Connectable) verify.Identity { return identityOf(identity).Identity }

package pkcs11

import (
	"errors"
	"fmt"
	"sync"

	"github.com/miekg/pkcs11"
)

// module is a loaded PKCS#11 library, shared by every key and lookup that
// uses it: C_Initialize once per process, C_Finalize when the last user
// releases it (PKCS#11 v2.40, section 5.4: an application initialises a
// library once).
type module struct {
	path string
	ctx  *pkcs11.Ctx
	refs int  // guarded by modules.mu
	owns bool // we called C_Initialize, so we call C_Finalize
}

var modules = struct {
	mu sync.Mutex
	m  map[string]*module
}{m: map[string]*module{}}

// openModule loads and initialises the library at path, or takes another
// reference to it.
func openModule(path string) (*module, error) {
	modules.mu.Lock()
	defer modules.mu.Unlock()
	if m := modules.m[path]; m != nil {
		m.refs++
		return m, nil
	}
	ctx := pkcs11.New(path)
	if ctx == nil {
		return nil, fmt.Errorf("pkcs11: cannot load the PKCS#11 module %q (dlopen failed or it has no C_GetFunctionList)", path)
	}
	m := &module{path: path, ctx: ctx, refs: 1, owns: true}
	// Several goroutines use the library: the binding asks it to lock with
	// the OS's primitives (CKF_OS_LOCKING_OK).
	if err := ctx.Initialize(); err != nil {
		if !errors.Is(err, pkcs11.Error(pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED)) {
			ctx.Destroy()
			return nil, fmt.Errorf("pkcs11: initialising the PKCS#11 module %q: %w", path, err)
		}
		m.owns = false // someone else in the process initialised it
	}
	modules.m[path] = m
	return m, nil
}

// release drops a reference, finalising and unloading the library with the
// last one.
func (m *module) release() error {
	modules.mu.Lock()
	defer modules.mu.Unlock()
	if m.refs--; m.refs > 0 {
		return nil
	}
	delete(modules.m, m.path)
	var err error
	if m.owns {
		err = m.ctx.Finalize()
	}
	m.ctx.Destroy()
	if err != nil {
		return fmt.Errorf("pkcs11: finalising the PKCS#11 module %q: %w", m.path, err)
	}
	return nil
}

package registry

import "time"

// SetWritten sets when the blob of key was last written, as time passing
// would.
func (m *MemBlobs) SetWritten(key string, at time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b := m.blobs[key]
	b.written = at
	m.blobs[key] = b
}

// Package vnc decodes the handshake of the Remote Framebuffer protocol (RFB,
// RFC 6143) used by VNC: the ProtocolVersion exchange, the security types the
// server offers and the one in use (None means no authentication), the
// SecurityResult, and the screen size from ServerInit when it is sent in
// clear. One [Session] event per flow. Framebuffer updates and input events
// after the handshake are not decoded.
package vnc

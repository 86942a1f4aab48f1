/* SPDX-License-Identifier: GPL-2.0 */
/*
 * display - the hub's screen: one camera full screen, or a 2x2 grid for
 * two to four, fail-closed.
 *
 * Each camera owns one cell. A cell shows either the newest verified frame
 * of that camera (scaled to fit with its aspect ratio kept, black
 * letterbox, a "VERIFIED <name> <capture time>" badge) or the hub's own
 * "STREAM UNAVAILABLE" screen with the camera's name and the reason. Before
 * an output buffer is committed, every cell whose content changed since
 * that buffer last showed it is drawn there completely, so no pixel of an
 * older frame, another camera or unverified data can reach the screen.
 *
 * The hub loop, per camera:
 *   receive -> open -> verify -> hub_decode_au() -> hub_decode_take() ->
 *   hub_display_show(d, cam, &frame) / hub_display_unavailable(d, cam, reason)
 * and around it: poll hub_display_fd() (flip completions -> hub_display_dispatch())
 * and call hub_display_tick() by the time it returns (staleness, hot-unplug,
 * master).
 *
 * Not thread-safe: call from the hub's display loop only. Errors: HUB_ERROR
 * (hub_error.h).
 */
#ifndef VERACAM_HUB_DISPLAY_H
#define VERACAM_HUB_DISPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <veracam/common.h>	/* VC_HUB_MAX_CAMERAS: the cells */

#include "hub_error.h"
#include "picture.h"

#define DISPLAY_DEFAULT_STALE_NS	1000000000ull
#define DISPLAY_Y4M_DEFAULT_WIDTH	1280
#define DISPLAY_Y4M_DEFAULT_HEIGHT	720

enum hub_unavailable {
	HUB_NOT_CONNECTED,	/* no session with the camera */
	HUB_NOT_VERIFIED,	/* frames arrive but fail verification */
	HUB_STALE,		/* no verified frame for stale_ns */
};

struct hub_display_config {
	/* "drm" (first card), "drm:/dev/dri/cardN" or "y4m:PATH"; NULL = "drm" */
	const char *output;
	unsigned int cameras;			/* 1 .. VC_HUB_MAX_CAMERAS */
	bool grid;				/* 2x2 cells for one camera too */
	const char *names[VC_HUB_MAX_CAMERAS];	/* names the cameras were trusted under */
	unsigned int width, height;		/* y4m only (even); 0 = 1280x720 */
	bool kms_legacy;			/* use SetCrtc/PageFlip even if atomic works */
	uint64_t stale_ns;			/* 0 = DISPLAY_DEFAULT_STALE_NS */
};

/*
 * A commit whose completion has not come by then is given up: the output
 * is taken down and started again (what is on the screen may be past its
 * show-until), and counted in display_stats.commits_given_up.
 */
#define DISPLAY_PENDING_MAX_MS	500u

struct hub_display_stats {
	uint64_t commits;		/* buffers handed to the output */
	uint64_t completed;		/* of those, on screen */
	uint64_t commit_errors;
	uint64_t commits_given_up;	/* no completion in time: output restarted */
	uint64_t output_lost;		/* unplug / master lost events */
	uint64_t output_restarted;
	uint64_t shown[VC_HUB_MAX_CAMERAS];		/* frames accepted per camera */
	uint64_t unavailable[VC_HUB_MAX_CAMERAS];	/* switches to the unavailable screen */
	/* of those, the display's own: a frame's deadline passed before a newer one */
	uint64_t expired[VC_HUB_MAX_CAMERAS];
	/*
	 * Per camera, at the last flip completion: the capture time of its
	 * frame that reached the screen (0: its unavailable screen did), and
	 * the glass latency of that frame (CLOCK_REALTIME at completion minus
	 * capture time; kept from the last frame shown).
	 */
	uint64_t on_screen_capture_ns[VC_HUB_MAX_CAMERAS];
	uint64_t glass_ns[VC_HUB_MAX_CAMERAS];
	/* CPU time spent, CLOCK_MONOTONIC ns, cumulative */
	uint64_t render_ns;	/* frames: scale + convert + badge into a buffer */
	uint64_t compose_ns;	/* the rest of composing: screens, black, bookkeeping */
	uint64_t commit_ns;	/* handing the buffer to the output */
	/*
	 * Raw-frame writes: a frame drawn into an output buffer (the one
	 * copy from decoder to scanout: converted into XRGB8888, copied or
	 * scaled into I420), and a frame first scaled into the scratch
	 * planes (XRGB8888 when its size is not the cell's; I420 only for
	 * an NV12 picture's chroma). frame_converts: frames drawn into an
	 * I420 buffer of another colorimetry, then converted there in place
	 * (no copy, one more pass).
	 */
	uint64_t frame_writes;
	uint64_t frame_scales;
	uint64_t frame_converts;
};

/*
 * The output grammar, the one place it is defined (the configuration's
 * check calls it too): "drm", "drm:/dev/dri/cardN" (an absolute path) or
 * "y4m:PATH" (PATH not empty).
 */
bool hub_display_output_valid(const char *spec);

/*
 * Open the output and show every camera as "not connected". For DRM: take
 * master, disable every plane and CRTC (recovery commit), then modeset the
 * first connected connector with its preferred mode. NULL on failure:
 * HUB_ERROR_CONFIG for what the configuration asked (an unknown output, a
 * camera count or size the hub cannot show), HUB_ERROR_FAILED for what the
 * system refused (kms.h, y4m.h).
 */
struct hub_display *hub_display_open(const struct hub_display_config *cfg, GError **error);

/*
 * Show @frame (decoded from a verified AU of camera @cam) in its cell,
 * until its show_until_ns (CLOCK_MONOTONIC; 0: no limit): from then on no
 * buffer is composed with it, the cell shows "stale" (a commit for another
 * cell, or a tick that comes late, cannot carry it to the glass).
 * The display takes @frame over, also on error: it calls frame->release
 * when it no longer shows it, and clears the caller's copy.
 */
int hub_display_show(struct hub_display *d, unsigned int cam, struct hub_picture *frame);

/* Replace camera @cam's cell with the unavailable screen; cheap if it
 * already shows that reason. */
int hub_display_unavailable(struct hub_display *d, unsigned int cam,
			    enum hub_unavailable why);

/*
 * Time passes: cells whose last frame is older than stale_ns, or past its
 * show-until (by CLOCK_MONOTONIC @now_ns), turn into "stale" unavailable
 * screens; the output is checked for unplug/replug and master. Returns when
 * the next tick is due (CLOCK_MONOTONIC ns, within 250 ms of @now_ns).
 *
 * The fail-closed timer's owner is the hub role (hub/role.c on_tick): a
 * camera with no verified frame for unavailable_ns gets its unavailable
 * screen with the reason. This one is the backstop beneath it, and the
 * only keeper of show-until: whatever the role's tick does, and however
 * late it comes, no buffer is composed with a frame past either bound.
 */
uint64_t hub_display_tick(struct hub_display *d, uint64_t now_ns);

/* The fd that becomes readable on flip completion (-1: none needed). */
int hub_display_fd(const struct hub_display *d);

/* Handle completions on hub_display_fd(); commits pending changes. */
int hub_display_dispatch(struct hub_display *d);

/*
 * ---- the events view (issue 17) ----
 * DISPLAY_VIEW_EVENTS: each camera's cell cut 2x2 into tiles, newest
 * first (top left, top right, bottom left, bottom right): a thumbnail
 * with its camera's name and capture time (UTC), the hub's "EVENT
 * UNAVAILABLE" screen with a reason, "EVENTS MISSING" (a gap in the
 * camera's chain of events), or black. DISPLAY_VIEW_CLIP: one picture (or
 * the hub's screen) over the whole screen. Live frames go on arriving in
 * both (hub_display_show keeps and expires them, drawn again on the way back
 * to DISPLAY_VIEW_LIVE). Every switch draws every region again in every
 * buffer.
 */
#define DISPLAY_EVENT_TILES	4

enum hub_display_view {
	DISPLAY_VIEW_LIVE,
	DISPLAY_VIEW_EVENTS,
	DISPLAY_VIEW_CLIP,
};

enum hub_display_tile {
	DISPLAY_TILE_EMPTY,
	DISPLAY_TILE_THUMB,		/* a verified thumbnail */
	DISPLAY_TILE_UNAVAILABLE,	/* refused: text is why */
	DISPLAY_TILE_GAP,		/* events missing: text says which */
};

int hub_display_set_view(struct hub_display *d, enum hub_display_view view);
enum hub_display_view hub_display_get_view(const struct hub_display *d);
/*
 * Camera @cam's tile @tile. A thumbnail (decoded from a verified JPEG,
 * captured at capture_ns) is copied and @pic released (also on error).
 */
int hub_display_event_tile(struct hub_display *d, unsigned int cam, unsigned int tile,
			   enum hub_display_tile kind, struct hub_picture *pic, uint64_t capture_ns,
			   const char *text);
/* The clip view: a frame (taken over, as hub_display_show) or the hub's screen with why. */
int hub_display_clip_show(struct hub_display *d, const char *name, struct hub_picture *frame);
int hub_display_clip_unavailable(struct hub_display *d, const char *name, const char *why);

void hub_display_get_stats(const struct hub_display *d, struct hub_display_stats *st);
void hub_display_get_size(const struct hub_display *d, unsigned int *w,
			  unsigned int *h);

/* Disable the output (nothing of the hub stays on the CRTC) and free. */
void hub_display_close(struct hub_display *d);

#endif

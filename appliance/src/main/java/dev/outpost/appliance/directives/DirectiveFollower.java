package dev.outpost.appliance.directives;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.outpost.appliance.upstream.UpstreamException;

/**
 * Follows central's {@code GET /v1/site/directives?after=V}, from the last version applied, and applies what comes
 * page by page until it has caught up with {@code latest}: a site that was offline gets everything it missed, in
 * order. Blocking: run {@link #poll()} on a worker (a timer, like the bundle follower).
 */
public final class DirectiveFollower {
    private static final Logger LOG = LoggerFactory.getLogger(DirectiveFollower.class);
    // One poll reads at most this many pages (10,000 directives); the next poll goes on from there.
    private static final int MAX_PAGES = 100;

    /** Fetches the raw answer for {@code after} (UpstreamLink#directives). */
    @FunctionalInterface
    public interface Fetch {
        byte[] after(long version) throws Exception;
    }

    /** What the site knows of central's directives, for status and tests. */
    public record Status(long applied, long latest, String lastError) {
    }

    private final Fetch fetch;
    private final DirectiveApplier applier;
    // Kept in memory for status and metrics, which are read on event loops where no JDBC may run.
    private volatile long applied = -1;
    private volatile long latest = -1;
    private volatile String lastError;
    private boolean warned;

    public DirectiveFollower(Fetch fetch, DirectiveApplier applier) {
        this.fetch = fetch;
        this.applier = applier;
    }

    /**
     * Fetches and applies until caught up. A failure (offline, a refusal, a directive this site cannot read or
     * apply) is logged, once until it works again, and stops here: the same version is asked for next time.
     *
     * @return how many directives were applied by this poll
     */
    public synchronized int poll() {
        int count = 0;
        try {
            for (int i = 0; i < MAX_PAGES; i++) {
                long after = applier.applied();
                Directive.Page page = DirectiveMessages.page(fetch.after(after), after);
                latest = page.latest();
                // The readable ones first: a directive this site cannot use must not hold back those before it.
                count += applier.apply(page.directives());
                if (page.unreadable() != null) {
                    throw new UpstreamException(0, null, page.unreadable());
                }
                if (page.directives().isEmpty()) {
                    if (page.latest() < after) {
                        // Central lost directives (restored from an older backup?): ours stay; new ones numbered at or
                        // below ours would never come. Said every time: someone must look.
                        LOG.warn("central's latest directive is {} but this site applied up to {}: central's directives "
                                + "were reset; new ones up to {} will not reach this site", page.latest(), after, after);
                    }
                    break;
                }
                if (page.directives().get(page.directives().size() - 1).version() >= page.latest()) {
                    break;
                }
            }
            if (warned) {
                LOG.info("central's directives followed again");
            }
            warned = false;
            lastError = null;
        } catch (Exception e) {
            lastError = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            if (!warned) {
                LOG.warn("central's directives not applied past {} ({}); trying again later", safeApplied(), lastError);
                warned = true;
            }
        }
        applied = safeApplied();
        return count;
    }

    /** As of the last poll (-1 before the first); no JDBC, so callable from an event loop. */
    public Status status() {
        return new Status(applied, latest, lastError);
    }

    private long safeApplied() {
        try {
            return applier.applied();
        } catch (RuntimeException e) {
            return -1;
        }
    }
}

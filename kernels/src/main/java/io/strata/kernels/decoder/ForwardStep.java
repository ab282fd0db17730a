package io.strata.kernels.decoder;

/**
 * One forward pass of a {@link Sequence}: {@code token} was fed at {@code position}; {@code logits} are the
 * next-token logits there (the listener may keep the array). {@code sampled} is the token chosen from these
 * logits during generation, or -1 for a prompt position whose successor is already known.
 *
 * @param nanos            wall time of the forward pass
 * @param expertWaitNanos  part of it spent waiting in {@code WeightSource.expert} (paging stalls)
 */
public record ForwardStep(int position, int token, boolean prompt, int sampled, float[] logits, Routing routing,
                          long nanos, long expertWaitNanos) {
}

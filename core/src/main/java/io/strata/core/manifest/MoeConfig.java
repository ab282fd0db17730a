package io.strata.core.manifest;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/** The MoE shape of a model. {@code expertBytes} is the largest expert group's size in bytes. */
@JsonIgnoreProperties(ignoreUnknown = true)
public record MoeConfig(int numExperts, int numExpertsPerToken, String expertFormat, long expertBytes, int numMoeLayers) {
}

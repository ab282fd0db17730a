package io.strata.loader.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

class ReuseOddsTest {
    @Test
    void learnsHowTheChanceDependsOnAgeAndFallsBackWhereItSawNothing() {
        ReuseOdds odds = new ReuseOdds();
        Random rnd = new Random(1);
        for (int i = 0; i < 20_000; i++) {
            odds.learn(0, 2.5, 1.2, rnd.nextDouble() < 0.8); // just chosen, frequent: usually chosen again
            odds.learn(5, 0.3, 0.7, rnd.nextDouble() < 0.1); // long unchosen, rare: seldom
        }
        assertEquals(0.8, odds.chance(0, 2.5, 1.2), 0.02);
        assertEquals(0.1, odds.chance(5, 0.3, 0.7), 0.02);
        // a long-run frequency never seen with that age and recent frequency borrows their rate; a state never
        // seen at all, the overall rate
        assertEquals(0.8, odds.chance(0, 2.5, 0.1), 0.02);
        assertEquals(0.45, odds.chance(40, 5, 3), 0.02);
    }
}
